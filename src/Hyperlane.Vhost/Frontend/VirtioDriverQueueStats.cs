namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// Counters of one driver-side virtqueue, written by the one thread that runs its bursts (plain 64-bit stores;
/// readers on other threads may see a value a moment old, never a torn one), and the last fault seen.
/// </summary>
#pragma warning disable CA1051 // counters are plain fields: the data path increments them without a call
public sealed class VirtioDriverQueueStats
{
    /// <summary>Packets posted (transmit) or received (receive).</summary>
    public long Packets;

    /// <summary>Bytes of those packets, without the virtio-net header.</summary>
    public long Bytes;

    /// <summary>Transmit: packets taken but not sent (not shared, too many segments, in flight at a reset). Receive: packets dropped as malformed.</summary>
    public long Dropped;

    /// <summary>Backend-written values rejected (each also sets <see cref="LastFault"/>), plus transmit packets refused.</summary>
    public long Faults;

    /// <summary>Kick eventfd writes.</summary>
    public long Kicks;

    /// <summary>Bursts that posted buffers but did not kick because the backend disabled notifications.</summary>
    public long KicksSuppressed;

    /// <summary>Receive refills that found the mempool empty.</summary>
    public long RxNoMbuf;

    /// <summary>Times the ring state was found broken beyond repair; the queue then stops until <see cref="IVirtioDriverQueue.Reset"/>.</summary>
    public long Broken;

    /// <summary>Times the queue was reset (connect, reconnection).</summary>
    public long Resets;

    /// <summary>The last fault seen.</summary>
    public DriverQueueFault LastFault;

    /// <summary>The value that caused <see cref="LastFault"/> (an id, a length, an index).</summary>
    public long LastFaultValue;

    /// <summary>Counts a fault and remembers it.</summary>
    internal void Fault(DriverQueueFault fault, long value)
    {
        Faults++;
        LastFault = fault;
        LastFaultValue = value;
    }
}
#pragma warning restore CA1051
