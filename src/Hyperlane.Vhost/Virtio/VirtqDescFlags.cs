namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// Descriptor flags (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table" for split rings: VIRTQ_DESC_F_NEXT,
/// VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT; §2.8.1 "Driver and Device Ring Wrap Counters" and §2.8.13
/// "The Virtqueue Descriptor Format" for packed rings, which add VIRTQ_DESC_F_AVAIL (bit 7) and
/// VIRTQ_DESC_F_USED (bit 15)).
/// </summary>
[Flags]
#pragma warning disable CA1028 // the wire field is 16 bits
public enum VirtqDescFlags : ushort
#pragma warning restore CA1028
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>VIRTQ_DESC_F_NEXT (1): the buffer continues in the descriptor named by next (split) or the following one (packed).</summary>
    Next = 1,

    /// <summary>VIRTQ_DESC_F_WRITE (2): the buffer is device write-only (otherwise device read-only).</summary>
    Write = 2,

    /// <summary>VIRTQ_DESC_F_INDIRECT (4): the buffer holds a table of descriptors (VIRTIO_F_INDIRECT_DESC).</summary>
    Indirect = 4,

    /// <summary>VIRTQ_DESC_F_AVAIL (1 &lt;&lt; 7), packed rings only: the driver's availability bit.</summary>
    Avail = 1 << 7,

    /// <summary>VIRTQ_DESC_F_USED (1 &lt;&lt; 15), packed rings only: the device's used bit.</summary>
    Used = 1 << 15,
}
