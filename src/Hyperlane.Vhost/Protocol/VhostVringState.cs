using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// struct vhost_vring_state (vhost-user.rst "Payload" / "A vring state description"), 8 bytes: index u32,
/// num u32. Payload of SET_VRING_NUM, SET/GET_VRING_BASE, SET_VRING_ENABLE, SET_VRING_ENDIAN, VRING_KICK and
/// the GET_VRING_BASE reply. For SET/GET_VRING_BASE, <see cref="Num"/> is "a vring descriptor index" (split:
/// bits 0-15) or "vring descriptor indices" (packed: avail index bits 0-14, avail wrap bit 15, used index bits
/// 16-30, used wrap bit 31).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostVringState
{
    /// <summary>sizeof(struct vhost_vring_state).</summary>
    public const int Size = 8;

    /// <summary>index: the vring index (a full u32 on the wire: validate all 32 bits, CVE-2020-10723).</summary>
    public uint Index;

    /// <summary>num: the value (ring size, base index, enable flag, endianness).</summary>
    public uint Num;

    /// <summary>A vring state.</summary>
    public VhostVringState(uint index, uint num)
    {
        Index = index;
        Num = num;
    }
}
