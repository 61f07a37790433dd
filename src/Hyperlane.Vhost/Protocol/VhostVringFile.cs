namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// The u64 payload of SET_VRING_KICK / SET_VRING_CALL / SET_VRING_ERR (vhost-user.rst "Front-end message types"):
/// bits 0-7 are the vring index, bit 8 is the invalid-FD flag (no fd in the ancillary data: poll instead). The
/// spec defines no other bit; Hyperlane rejects messages that set one.
/// </summary>
public static class VhostVringFile
{
    /// <summary>VHOST_USER_VRING_IDX_MASK: bits 0-7.</summary>
    public const ulong IndexMask = 0xFF;

    /// <summary>VHOST_USER_VRING_NOFD_MASK: bit 8.</summary>
    public const ulong NoFdFlag = 0x100;

    /// <summary>The bits the spec defines.</summary>
    public const ulong KnownBits = IndexMask | NoFdFlag;

    /// <summary>The payload for vring <paramref name="index"/> (0-255), with or without an fd.</summary>
    public static ulong Encode(uint index, bool hasFd)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, (uint)IndexMask);
        return index | (hasFd ? 0 : NoFdFlag);
    }
}
