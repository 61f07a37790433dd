namespace Hyperlane.Vhost.Queues;

/// <summary>
/// Per-queue counters, written by the one lcore that uses the queue (plain 64-bit stores; readers on other threads
/// may see a value a moment old, never a torn one) and the last fault with its descriptor index.
/// </summary>
public sealed class VhostQueueStats
{
    /// <summary>Packets dequeued (guest Tx) or enqueued (guest Rx).</summary>
    public long Packets;

    /// <summary>Bytes of those packets, without the virtio-net header.</summary>
    public long Bytes;

    /// <summary>Enqueue: packets that found no guest buffer. Dequeue: packets dropped for want of mbufs.</summary>
    public long Dropped;

    /// <summary>Chains or ring states rejected as malformed (each also sets <see cref="LastFault"/>).</summary>
    public long Faults;

    /// <summary>Interrupts (eventfd writes) sent to the guest.</summary>
    public long GuestNotifications;

    /// <summary>Times the queue was found broken beyond repair (e.g. an avail index jump) and stopped.</summary>
    public long Broken;

    /// <summary>The last fault seen.</summary>
    public VhostQueueFault LastFault;

    /// <summary>The descriptor (or avail) index the last fault was found at.</summary>
    public long LastFaultIndex;

    /// <summary>Records a fault: counts it and remembers it.</summary>
    public void Fault(VhostQueueFault fault, long index)
    {
        Faults++;
        LastFault = fault;
        LastFaultIndex = index;
    }
}
