using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The driver side of one virtqueue (what DPDK's virtio PMD keeps per queue under virtio_user): rings in memory the
/// frontend owns and shares with the backend, its kick and call eventfds, and the poll-mode burst functions.
/// </summary>
/// <remarks>
/// <para>
/// Data path (<see cref="Transmit"/>, <see cref="Receive"/>): one thread at a time; never throws, allocates, locks or
/// blocks. Everything the backend writes (used ring, used descriptors, received virtio-net headers) is read once and
/// validated; a bad value is counted in <see cref="Stats"/> and skipped, the buffer it named recovered when that can
/// be told. Interrupts are suppressed (poll mode); the kick eventfd is written at most once per burst, and only when
/// the backend has not disabled notifications.
/// </para>
/// <para>
/// Control path (<see cref="Stop"/>, <see cref="Reset"/>, <see cref="Fill"/>, <see cref="Start"/>): a queue starts
/// stopped; bursts on a stopped queue return 0.
/// </para>
/// </remarks>
public interface IVirtioDriverQueue : IDisposable
{
    /// <summary>The vring index.</summary>
    int VringIndex { get; }

    /// <summary>Descriptors in the ring.</summary>
    int Size { get; }

    /// <summary>Receive or transmit.</summary>
    DriverQueueRole Role { get; }

    /// <summary>True for a packed ring, false for a split ring.</summary>
    bool IsPacked { get; }

    /// <summary>
    /// SET_VRING_ADDR's payload: user addresses (= guest-physical addresses) of the descriptor table or ring, the
    /// available ring or driver event area, the used ring or device event area; no logging.
    /// </summary>
    VhostVringAddr RingAddress { get; }

    /// <summary>SET_VRING_BASE's num for a freshly reset ring: 0 (split) or both wrap counters set (packed, 0x80008000).</summary>
    uint InitialBase { get; }

    /// <summary>The kick eventfd the driver writes (sent with SET_VRING_KICK).</summary>
    EventFd KickFd { get; }

    /// <summary>The call eventfd the backend writes (sent with SET_VRING_CALL); poll mode never waits on it.</summary>
    EventFd CallFd { get; }

    /// <summary>Counters and the last fault.</summary>
    VirtioDriverQueueStats Stats { get; }

    /// <summary>Buffers posted and not yet used by the device.</summary>
    int InFlight { get; }

    /// <summary>True when the ring state was found broken (see <see cref="DriverQueueFault.UsedIndexJump"/>); bursts then do nothing until <see cref="Reset"/>.</summary>
    bool IsBroken { get; }

    /// <summary>True while the control path holds the queue.</summary>
    bool IsStopped { get; }

    /// <summary>
    /// Transmit queue: reclaims what the device used (freeing those mbufs), then posts packets from the start of
    /// <paramref name="packets"/> while descriptors last, each behind a 12-byte virtio-net header. Returns how many
    /// were taken: they now belong to the queue (a packet that could never be sent is taken, freed and counted).
    /// The rest still belong to the caller. 0 on a receive queue or a stopped queue.
    /// </summary>
    int Transmit(ReadOnlySpan<Mbuf> packets);

    /// <summary>
    /// Receive queue: moves packets the device wrote into <paramref name="packets"/> (header stripped; with
    /// VIRTIO_NET_F_MRG_RXBUF a packet spanning num_buffers buffers becomes an mbuf chain) and refills the ring from
    /// the pool. Returns how many were written. 0 on a transmit queue or a stopped queue.
    /// </summary>
    int Receive(Span<Mbuf> packets);

    /// <summary>Takes the queue from the data path (waits for a burst in progress, up to <paramref name="timeout"/>); false on timeout.</summary>
    bool Stop(TimeSpan timeout);

    /// <summary>
    /// On a stopped queue: frees every mbuf in flight (transmit packets count as dropped), clears the rings and
    /// restarts the indexes from 0, as a ring the backend has not seen yet. Interrupts stay suppressed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The queue is not stopped.</exception>
    void Reset();

    /// <summary>Receive queue: posts empty buffers from the pool into every free descriptor. Returns how many were posted.</summary>
    /// <exception cref="InvalidOperationException">The queue is not stopped.</exception>
    int Fill();

    /// <summary>Gives the queue to the data path.</summary>
    void Start();
}
