using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// The fixed head of struct virtq_used (virtio 1.2 §2.7.8 "The Virtqueue Used Ring"), 4 bytes:
/// <c>le16 flags; le16 idx;</c> followed by <c>struct virtq_used_elem ring[queue size]</c> and, with
/// VIRTIO_F_EVENT_IDX, <c>le16 avail_event</c> (offsets in <see cref="SplitVirtqueueLayout"/>). Written by the
/// device (us); writes to it are logged in the dirty log while migrating.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqUsedHeader
{
    /// <summary>Size of flags + idx.</summary>
    public const int Size = 4;

    /// <summary>VIRTQ_USED_F_NO_NOTIFY (1): the device asks the driver not to kick (without EVENT_IDX).</summary>
    public const ushort FlagNoNotify = 1;

    /// <summary>flags.</summary>
    public ushort Flags;

    /// <summary>idx: where the device puts the next used element (free-running, modulo 2^16).</summary>
    public ushort Idx;
}
