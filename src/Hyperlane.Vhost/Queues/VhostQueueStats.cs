using Hyperlane.Memory;

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

    /// <summary>Enqueue: every packet not delivered (no guest buffer, or too long for one). Dequeue: packets given back to the guest undelivered (too long for the pool's mbufs).</summary>
    public long Dropped;

    /// <summary>Chains or ring states rejected as malformed (each also sets <see cref="LastFault"/>).</summary>
    public long Faults;

    /// <summary>Interrupts (eventfd writes) sent to the guest.</summary>
    public long GuestNotifications;

    /// <summary>Dequeue: times a burst stopped early because the mempool had no mbufs (the packet stays in the ring, nothing is dropped).</summary>
    public long MbufShortages;

    /// <summary>Times the queue was found broken beyond repair (e.g. an avail index jump) and stopped.</summary>
    public long Broken;

    /// <summary>
    /// Transmit (dequeue): indirect-table entries that carried VRING_DESC_F_WRITE and were read anyway. DPDK 22.11's
    /// virtio_user marks every entry of a packed indirect table device-writable; the device only reads a transmit
    /// buffer, so the flag is harmless there (DPDK's own vhost ignores it too). Counted, not a fault.
    /// </summary>
    public long IndirectWriteFlagsIgnored;

    /// <summary>
    /// Enqueue: packets whose frame went into the guest's buffer with streaming stores, because the guest had at least
    /// half its receive ring posted (see <see cref="PacketCopy.CopyStreaming"/>); the rest used ordinary stores.
    /// </summary>
    public long StreamedPackets;

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
