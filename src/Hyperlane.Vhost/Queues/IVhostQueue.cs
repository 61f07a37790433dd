using Hyperlane.Memory;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// The backend's side of one virtqueue (split or packed), as the data path uses it. One lcore at a time calls
/// <see cref="Dequeue"/> or <see cref="Enqueue"/>; neither allocates, throws or locks. Everything read from
/// guest memory is read once, validated against the ring size and the memory table, and a fault costs only
/// that packet (or, for a ring that is broken beyond repair, the queue stops and says so in <see cref="Stats"/>).
/// </summary>
public interface IVhostQueue
{
    /// <summary>The vring index.</summary>
    int Index { get; }

    /// <summary>Counters and the last fault, read by the control side (for xstats and logging).</summary>
    VhostQueueStats Stats { get; }

    /// <summary>
    /// Guest → host (a transmitq): takes up to <paramref name="packets"/>.Length packets from the avail ring,
    /// copies each (after its virtio-net header) into mbufs from <paramref name="pool"/> (chained when longer
    /// than one mbuf), returns the descriptors to the used ring and interrupts the guest as EVENT_IDX or the
    /// NO_INTERRUPT flag allow (split), or the driver event suppression (packed). Returns the number of packets written to <paramref name="packets"/>; they belong to
    /// the caller. A malformed chain is returned to the guest as used with length 0, counted, and skipped.
    /// </summary>
    int Dequeue(Mempool pool, Span<Mbuf> packets);

    /// <summary>
    /// Host → guest (a receiveq): copies each packet, with a virtio-net header in front, into the guest's
    /// buffers (with VIRTIO_NET_F_MRG_RXBUF over several buffers, num_buffers set), marks every byte written
    /// in the dirty log when there is one, publishes them in the used ring and interrupts the guest as allowed.
    /// Returns how many packets, from the start, the queue is done with: delivered, or dropped because one is
    /// too long for a guest buffer without VIRTIO_NET_F_MRG_RXBUF (counted in <see cref="VhostQueueStats.Dropped"/>).
    /// The rest found no buffers. The caller keeps ownership of all of <paramref name="packets"/> and frees them:
    /// nothing is kept by reference.
    /// </summary>
    int Enqueue(ReadOnlySpan<Mbuf> packets);

    /// <summary>
    /// The value for GET_VRING_BASE when the frontend stops the ring: split, the next avail index; packed, the
    /// next avail index with the driver wrap counter in bit 15.
    /// </summary>
    uint GetBase();
}
