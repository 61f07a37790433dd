namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The hand-off between a queue's data path and the control path (DESIGN.md "Runtime": per-queue in-use flags).
/// A burst enters with one compare-and-swap and leaves with a store; the control side stops the queue by taking
/// the gate when no burst is inside, after which bursts return 0 at once until it starts the queue again.
/// Nothing blocks on the data path.
/// </summary>
internal sealed class DataPathGate
{
    private const int Open = 0;
    private const int InBurst = 1;
    private const int Stopped = 2;

    private int _state = Stopped;

    /// <summary>True while the control side holds the queue.</summary>
    public bool IsStopped => Volatile.Read(ref _state) == Stopped;

    /// <summary>Enters a burst; false when the queue is stopped (or another thread is in a burst).</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _state, InBurst, Open) == Open;

    /// <summary>Leaves a burst.</summary>
    public void Exit() => Volatile.Write(ref _state, Open);

    /// <summary>
    /// Takes the queue from the data path: waits (spinning, then yielding) until no burst is inside, up to
    /// <paramref name="timeout"/>. True when stopped (also when it already was).
    /// </summary>
    public bool TryStop(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var spin = default(SpinWait);
        while (true)
        {
            int seen = Interlocked.CompareExchange(ref _state, Stopped, Open);
            if (seen is Open or Stopped)
            {
                return true;
            }

            if (Environment.TickCount64 > deadline)
            {
                return false;
            }

            spin.SpinOnce();
        }
    }

    /// <summary>Gives the queue back to the data path.</summary>
    public void Start() => Interlocked.CompareExchange(ref _state, Open, Stopped);
}
