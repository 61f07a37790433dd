using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Hyperlane.Vhost.Queues;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// The hand-off of one vring between the vhost-user session (control thread) and the data path (an lcore): the
/// session publishes the queue it built for the ring, and retires it (GET_VRING_BASE, a new memory table, a new log,
/// a disconnect...) only once the data path is out of it, so the memory the queue reads is never unmapped under it.
/// </summary>
/// <remarks>
/// <para>
/// Data path: <c>if (slot.TryEnter(out var q)) { try { q.Enqueue(...); } finally { slot.Exit(); } }</c> around
/// each burst. TryEnter raises an in-use count (a plain store) and only then reads the current queue; Exit lowers
/// it. Lock-free, fence-free, no allocation. Every successful TryEnter must be matched by exactly one Exit, on the
/// same thread; one thread at a time uses a slot (as a queue serves one thread at a time), and entries may nest.
/// </para>
/// <para>
/// Session: <see cref="Publish"/> is a volatile write. <see cref="TryRetire"/> clears the queue, runs a
/// process-wide barrier (<see cref="Interlocked.MemoryBarrierProcessWide"/>, membarrier(2)), and then spins until
/// the in-use count is 0 (bounded): a data path that entered before the clear has left, and one that enters after
/// it sees no queue. This is an asymmetric Dekker pair: the data path stores and then loads with no fence between;
/// the barrier makes its store visible to the session, or the session's clear visible to its load. The fence is
/// paid once per retire, not once per burst. Only then may the session unmap what that queue used.
/// </para>
/// </remarks>
public sealed class VhostQueueSlot
{
    private IVhostQueue? _queue;
    private IVhostQueue? _retiring; // session thread only: cleared, not yet known to be left by the data path
    private int _inUse;
    private long _retiredPackets;
    private long _retiredBytes;
    private long _retiredDropped;
    private long _retiredFaults;
    private long _retiredBroken;
    private long _retiredNotifications;

    internal VhostQueueSlot(int index)
    {
        Index = index;
    }

    /// <summary>The vring index (virtio-net: 2q is receiveq q, where the backend enqueues; 2q+1 is transmitq q, where it dequeues).</summary>
    public int Index { get; }

    /// <summary>
    /// The queue currently published, for the control side (stats, logging). Not for the data path: it may be
    /// retired and its memory unmapped right after this read; use <see cref="TryEnter"/>.
    /// </summary>
    public IVhostQueue? Current => Volatile.Read(ref _queue);

    /// <summary>Whether a queue is published (the ring is usable).</summary>
    public bool IsActive => Volatile.Read(ref _queue) is not null;

    /// <summary>Packets counted by the queues this slot has retired (their <see cref="VhostQueueStats.Packets"/> summed).</summary>
    public long RetiredPackets => Interlocked.Read(ref _retiredPackets);

    /// <summary>Bytes counted by the queues this slot has retired.</summary>
    public long RetiredBytes => Interlocked.Read(ref _retiredBytes);

    /// <summary>Drops counted by the queues this slot has retired.</summary>
    public long RetiredDropped => Interlocked.Read(ref _retiredDropped);

    /// <summary>Faults counted by the queues this slot has retired.</summary>
    public long RetiredFaults => Interlocked.Read(ref _retiredFaults);

    /// <summary>Broken-ring events counted by the queues this slot has retired.</summary>
    public long RetiredBroken => Interlocked.Read(ref _retiredBroken);

    /// <summary>Guest notifications (call eventfd writes) counted by the queues this slot has retired.</summary>
    public long RetiredNotifications => Interlocked.Read(ref _retiredNotifications);

    /// <summary>
    /// Data path: marks the slot in use, then reads the current queue. True with the queue, which stays valid
    /// until <see cref="Exit"/>; false (and the slot not marked) when no queue is published.
    /// </summary>
    public bool TryEnter([NotNullWhen(true)] out IVhostQueue? queue)
    {
        // One writer (the thread using the slot): a plain increment. No fence before the load: WaitQuiescent's
        // process-wide barrier orders the two against the session's clear.
        Volatile.Write(ref _inUse, _inUse + 1);
        queue = Volatile.Read(ref _queue);
        if (queue is null)
        {
            Volatile.Write(ref _inUse, _inUse - 1);
            return false;
        }

        return true;
    }

    /// <summary>Data path: leaves the queue entered with <see cref="TryEnter"/> (a release store: the burst's accesses come first).</summary>
    public void Exit() => Volatile.Write(ref _inUse, _inUse - 1);

    /// <summary>Session: makes <paramref name="queue"/> the slot's queue (the slot must be empty: retire first).</summary>
    internal void Publish(IVhostQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Debug.Assert(Volatile.Read(ref _queue) is null, "publish over a live queue: retire it first");
        Volatile.Write(ref _queue, queue);
    }

    /// <summary>
    /// Session: unpublishes the current queue, without waiting. Pair with <see cref="WaitQuiescent"/> before
    /// freeing what the queue used. Returns the queue that was published (null when none).
    /// </summary>
    internal IVhostQueue? Clear()
    {
        IVhostQueue? old = Interlocked.Exchange(ref _queue, null); // a full fence: the clear is visible before the in-use load
        if (old is not null)
        {
            if (_retiring is not null)
            {
                Account(_retiring);
            }

            _retiring = old; // its counters are added once the data path has left it
        }

        return old;
    }

    /// <summary>
    /// Session: waits, spinning then yielding, until no data path is inside the slot, at most
    /// <paramref name="timeout"/>. True when it is quiescent.
    /// </summary>
    internal bool WaitQuiescent(TimeSpan timeout)
    {
        // Every thread's in-use store made before this point is visible below, and every TryEnter after it sees
        // the clear (the data path does not fence: see the remarks).
        Interlocked.MemoryBarrierProcessWide();
        bool quiescent = true;
        if (Volatile.Read(ref _inUse) != 0)
        {
            long start = Stopwatch.GetTimestamp();
            var spin = default(SpinWait);
            while (Volatile.Read(ref _inUse) != 0)
            {
                if (Stopwatch.GetElapsedTime(start) >= timeout)
                {
                    quiescent = false;
                    break;
                }

                spin.SpinOnce(sleep1Threshold: -1); // spins, then yields; never sleeps a whole millisecond
            }
        }

        if (_retiring is not null)
        {
            Account(_retiring);
            _retiring = null;
        }

        return quiescent;
    }

    /// <summary>Session: <see cref="Clear"/> then <see cref="WaitQuiescent"/>. False when the data path did not leave in time.</summary>
    internal bool TryRetire(TimeSpan timeout, out IVhostQueue? retired)
    {
        retired = Clear();
        return WaitQuiescent(timeout);
    }

    private void Account(IVhostQueue retired)
    {
        VhostQueueStats s = retired.Stats;
        Interlocked.Add(ref _retiredPackets, Volatile.Read(ref s.Packets));
        Interlocked.Add(ref _retiredBytes, Volatile.Read(ref s.Bytes));
        Interlocked.Add(ref _retiredDropped, Volatile.Read(ref s.Dropped));
        Interlocked.Add(ref _retiredFaults, Volatile.Read(ref s.Faults));
        Interlocked.Add(ref _retiredBroken, Volatile.Read(ref s.Broken));
        Interlocked.Add(ref _retiredNotifications, Volatile.Read(ref s.GuestNotifications));
    }

    /// <inheritdoc/>
    public override string ToString() => $"vring {Index} ({(IsActive ? "active" : "idle")})";
}
