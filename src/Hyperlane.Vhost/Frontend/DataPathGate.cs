namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The hand-off between a queue's data path and the control path (DESIGN.md "Runtime": per-queue in-use flags).
/// A burst enters with a plain store of its in-use flag and a load of the stop flag, and leaves with a store; the
/// control side stops the queue by raising the stop flag and waiting until no burst is inside, after which bursts
/// return at once until it starts the queue again. Nothing blocks, and nothing fences, on the data path.
/// </summary>
/// <remarks>
/// An asymmetric Dekker pair (the membarrier(2) pattern): the data path stores <c>_inBurst</c> and then loads
/// <c>_stopping</c> without a fence between them; <see cref="TryStop"/> stores <c>_stopping</c> and then runs
/// <see cref="Interlocked.MemoryBarrierProcessWide"/>, which makes every thread's earlier stores visible before it
/// loads <c>_inBurst</c>. So either the burst sees the stop (and leaves at once), or the stopper sees the burst and
/// waits for it. The price (a membarrier call, a few microseconds) is paid per stop, not per burst. One thread at a
/// time runs the queue's bursts (as every queue of the framework); the gate does not arbitrate between two.
/// </remarks>
internal sealed class DataPathGate
{
    private int _inBurst;
    private int _stopping = 1;
    private volatile bool _stopped = true;

    /// <summary>True while the control side holds the queue.</summary>
    public bool IsStopped => _stopped;

    /// <summary>Enters a burst; false when the queue is stopped or being stopped.</summary>
    public bool TryEnter()
    {
        Volatile.Write(ref _inBurst, 1);
        if (Volatile.Read(ref _stopping) == 0)
        {
            return true;
        }

        Volatile.Write(ref _inBurst, 0);
        return false;
    }

    /// <summary>Leaves a burst.</summary>
    public void Exit() => Volatile.Write(ref _inBurst, 0);

    /// <summary>
    /// Takes the queue from the data path: waits (spinning, then yielding) until no burst is inside, up to
    /// <paramref name="timeout"/>. True when stopped (also when it already was); false, with the queue left running,
    /// when a burst stayed inside past the timeout.
    /// </summary>
    public bool TryStop(TimeSpan timeout)
    {
        if (_stopped)
        {
            return true;
        }

        Volatile.Write(ref _stopping, 1);
        Interlocked.MemoryBarrierProcessWide();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var spin = default(SpinWait);
        while (Volatile.Read(ref _inBurst) != 0)
        {
            if (Environment.TickCount64 > deadline)
            {
                Volatile.Write(ref _stopping, 0);
                return false;
            }

            spin.SpinOnce();
        }

        _stopped = true;
        return true;
    }

    /// <summary>Gives the queue back to the data path.</summary>
    public void Start()
    {
        _stopped = false;
        Volatile.Write(ref _stopping, 0);
    }
}
