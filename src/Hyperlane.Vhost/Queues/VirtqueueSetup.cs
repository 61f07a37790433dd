using Hyperlane.Linux;
using Hyperlane.Vhost.Memory;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// What the backend knows about one virtqueue once the frontend has set it up (SET_VRING_NUM, SET_VRING_ADDR,
/// SET_VRING_BASE, SET_VRING_CALL, the memory table and, for live migration, the log). Immutable: a change of
/// any of it (a new memory table, a new log, a re-setup) makes a new queue object; the session swaps it in
/// only while the data path is not inside the old one.
/// </summary>
public sealed class VirtqueueSetup
{
    /// <summary>The vring index (virtio-net: 2q is receiveq q, the guest's Rx, where the backend enqueues; 2q+1 is transmitq q, where it dequeues).</summary>
    public required int Index { get; init; }

    /// <summary>SET_VRING_NUM: descriptors in the ring (split: a power of two up to 32768; packed: 1..32768).</summary>
    public required int Size { get; init; }

    /// <summary>SET_VRING_ADDR: the frontend's user (virtual) addresses of the descriptor table, the avail ring (packed: driver event suppression) and the used ring (packed: device event suppression).</summary>
    public required ulong DescUserAddr { get; init; }

    /// <inheritdoc cref="DescUserAddr"/>
    public required ulong AvailUserAddr { get; init; }

    /// <inheritdoc cref="DescUserAddr"/>
    public required ulong UsedUserAddr { get; init; }

    /// <summary>SET_VRING_ADDR log_guest_addr: the guest-physical address of the used ring, for the dirty log; meaningful when <see cref="LogUsedRing"/>.</summary>
    public ulong UsedLogGuestAddr { get; init; }

    /// <summary>SET_VRING_ADDR flags bit 0 (VHOST_VRING_F_LOG): log writes to the used ring.</summary>
    public bool LogUsedRing { get; init; }

    /// <summary>
    /// SET_VRING_BASE: the next avail index to process. Split: a free-running u16. Packed: bits 0..14 the
    /// index, bit 15 the driver's wrap counter (DPDK's convention).
    /// </summary>
    public required uint Base { get; init; }

    /// <summary>The negotiated virtio feature bits (VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_RING_PACKED, VHOST_F_LOG_ALL ...).</summary>
    public required ulong Features { get; init; }

    /// <summary>The frontend's memory, mapped.</summary>
    public required GuestMemory Memory { get; init; }

    /// <summary>The dirty log when VHOST_F_LOG_ALL is negotiated and SET_LOG_BASE was given; else null (nothing logged).</summary>
    public DirtyLog? Log { get; init; }

    /// <summary>SET_VRING_CALL: the eventfd that interrupts the guest; null (NOFD, or not given) means the guest polls.</summary>
    public EventFd? Call { get; init; }
}
