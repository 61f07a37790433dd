namespace Hyperlane.Memory;

/// <summary>
/// Synchronisation mode of a <see cref="Ring{T}"/> (DPDK's <c>RING_F_SP_ENQ</c> / <c>RING_F_SC_DEQ</c>).
/// The default, <see cref="None"/>, is multi-producer / multi-consumer.
/// </summary>
[Flags]
public enum RingFlags
{
    /// <summary>Multi-producer, multi-consumer: any number of threads may enqueue and dequeue.</summary>
    None = 0,

    /// <summary>Only one thread at a time enqueues: the producer head moves without an atomic compare-and-swap.</summary>
    SingleProducer = 1,

    /// <summary>Only one thread at a time dequeues: the consumer head moves without an atomic compare-and-swap.</summary>
    SingleConsumer = 2,
}
