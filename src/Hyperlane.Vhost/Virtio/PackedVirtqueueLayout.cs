namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// Sizes and alignments of the parts of a packed virtqueue (virtio 1.2 §2.8 "Packed Virtqueues" and §2.8.10.1
/// "Structure Size and Alignment"): a descriptor ring of queue-size 16-byte entries, and two 4-byte event
/// suppression structures (driver area, device area).
/// </summary>
public static class PackedVirtqueueLayout
{
    /// <summary>The largest queue size (§2.8: "Packed virtqueues support up to 2^15 entries each").</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Alignment of the descriptor ring.</summary>
    public const int DescRingAlignment = 16;

    /// <summary>Alignment of each event suppression structure.</summary>
    public const int EventSuppressAlignment = 4;

    /// <summary>Whether <paramref name="queueSize"/> is a valid packed queue size: 1 to 32768 (not necessarily a power of 2).</summary>
    public static bool IsValidQueueSize(uint queueSize) => queueSize is > 0 and <= MaxQueueSize;

    /// <summary>Size of the descriptor ring: 16 * queue size.</summary>
    public static ulong DescRingSize(uint queueSize) => (ulong)VirtqPackedDesc.Size * queueSize;
}
