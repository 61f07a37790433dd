using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// The fixed head of struct virtq_avail (virtio 1.2 §2.7.6 "The Virtqueue Available Ring"), 4 bytes:
/// <c>le16 flags; le16 idx;</c> followed by <c>le16 ring[queue size]</c> and, with VIRTIO_F_EVENT_IDX,
/// <c>le16 used_event</c> (offsets in <see cref="SplitVirtqueueLayout"/>). Written by the driver: read
/// <see cref="Idx"/> once per poll and never trust that it moved by at most the queue size.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqAvailHeader
{
    /// <summary>Size of flags + idx.</summary>
    public const int Size = 4;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT (1): the driver asks the device not to interrupt (without EVENT_IDX).</summary>
    public const ushort FlagNoInterrupt = 1;

    /// <summary>flags.</summary>
    public ushort Flags;

    /// <summary>idx: where the driver puts the next ring entry (free-running, modulo 2^16).</summary>
    public ushort Idx;
}
