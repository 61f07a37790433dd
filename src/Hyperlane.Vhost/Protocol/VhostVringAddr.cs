using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// struct vhost_vring_addr (vhost-user.rst "Payload" / "A vring address description"; linux vhost_types.h),
/// 40 bytes. The three ring addresses are frontend user (QEMU virtual) addresses, or IOVAs with
/// VIRTIO_F_ACCESS_PLATFORM; <see cref="LogGuestAddr"/> is a guest-physical address used to log used-ring writes.
/// The spec's table also shows a "size" column that no implementation has: the struct is index, flags, then four
/// u64s (QEMU, DPDK and Linux agree).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostVringAddr
{
    /// <summary>sizeof(struct vhost_vring_addr).</summary>
    public const int Size = 40;

    /// <summary>VHOST_VRING_F_LOG (bit 0 of flags): log writes to the used ring at <see cref="LogGuestAddr"/>.</summary>
    public const uint FlagLog = 1;

    /// <summary>index: the vring index.</summary>
    public uint Index;

    /// <summary>flags: <see cref="FlagLog"/>.</summary>
    public uint Flags;

    /// <summary>desc_user_addr: descriptor table (split) or descriptor ring (packed).</summary>
    public ulong DescUserAddr;

    /// <summary>used_user_addr: used ring (split) or device event suppression area (packed).</summary>
    public ulong UsedUserAddr;

    /// <summary>avail_user_addr: available ring (split) or driver event suppression area (packed).</summary>
    public ulong AvailUserAddr;

    /// <summary>log_guest_addr: guest-physical address of the used ring, for dirty logging.</summary>
    public ulong LogGuestAddr;

    /// <summary>A vring address description.</summary>
    public VhostVringAddr(uint index, uint flags, ulong descUserAddr, ulong usedUserAddr, ulong availUserAddr, ulong logGuestAddr)
    {
        Index = index;
        Flags = flags;
        DescUserAddr = descUserAddr;
        UsedUserAddr = usedUserAddr;
        AvailUserAddr = availUserAddr;
        LogGuestAddr = logGuestAddr;
    }

    /// <summary>Whether <see cref="FlagLog"/> is set.</summary>
    public readonly bool LogEnabled => (Flags & FlagLog) != 0;
}
