namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// Sizes, alignments and offsets of the three parts of a split virtqueue (virtio 1.2 §2.7 "Split Virtqueues",
/// the size/alignment table; §2.7.6 and §2.7.8 for used_event / avail_event). A backend translates each part as
/// one whole guest range of these sizes (never just its start address: CVE-2018-1059).
/// </summary>
public static class SplitVirtqueueLayout
{
    /// <summary>The largest queue size (§2.7: "The maximum Queue Size value is 32768").</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Alignment of the descriptor table (Descriptor Area).</summary>
    public const int DescTableAlignment = 16;

    /// <summary>Alignment of the available ring (Driver Area).</summary>
    public const int AvailRingAlignment = 2;

    /// <summary>Alignment of the used ring (Device Area).</summary>
    public const int UsedRingAlignment = 4;

    /// <summary>Whether <paramref name="queueSize"/> is a valid split queue size: a power of 2 from 1 to 32768.</summary>
    public static bool IsValidQueueSize(uint queueSize) =>
        queueSize is > 0 and <= MaxQueueSize && (queueSize & (queueSize - 1)) == 0;

    /// <summary>Size of the descriptor table: 16 * queue size.</summary>
    public static ulong DescTableSize(uint queueSize) => (ulong)VirtqDesc.Size * queueSize;

    /// <summary>Size of the available ring including used_event: 6 + 2 * queue size.</summary>
    public static ulong AvailRingSize(uint queueSize) => VirtqAvailHeader.Size + (2UL * queueSize) + 2;

    /// <summary>Size of the used ring including avail_event: 6 + 8 * queue size.</summary>
    public static ulong UsedRingSize(uint queueSize) => VirtqUsedHeader.Size + ((ulong)VirtqUsedElem.Size * queueSize) + 2;

    /// <summary>Offset of ring[i] in the available ring.</summary>
    public static ulong AvailRingEntryOffset(uint index) => VirtqAvailHeader.Size + (2UL * index);

    /// <summary>Offset of used_event (the last field of the available ring; VIRTIO_F_EVENT_IDX).</summary>
    public static ulong UsedEventOffset(uint queueSize) => VirtqAvailHeader.Size + (2UL * queueSize);

    /// <summary>Offset of ring[i] in the used ring.</summary>
    public static ulong UsedRingEntryOffset(uint index) => VirtqUsedHeader.Size + ((ulong)VirtqUsedElem.Size * index);

    /// <summary>Offset of avail_event (the last field of the used ring; VIRTIO_F_EVENT_IDX).</summary>
    public static ulong AvailEventOffset(uint queueSize) => VirtqUsedHeader.Size + ((ulong)VirtqUsedElem.Size * queueSize);
}
