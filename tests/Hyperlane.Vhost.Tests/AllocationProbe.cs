namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Runs a piece of work on a dedicated thread that allocates nothing else, and counts the managed bytes that work
/// allocates (GC.GetAllocatedBytesForCurrentThread around each run).
/// </summary>
/// <remarks>
/// Why a thread of its own: the per-thread counter also grows by the unused rest of the thread's allocation context
/// (up to the 8 KiB allocation quantum) when a GC, started by any thread, retires that context. The test's fake guest
/// allocates all the time, so measured on the test thread, a GC landing inside a queue call shows up as a few KiB
/// "allocated" by code that allocates nothing. This thread empties its context once (<see cref="Reset"/> collects
/// from it) and never allocates again, so any byte counted afterwards was allocated by the work itself.
/// </remarks>
internal sealed class AllocationProbe : IDisposable
{
    private const int Idle = 0, Run = 1, Done = 2, Collect = 3, Stop = 4;

    private readonly Thread _thread;
    private Action? _work;
    private int _state;

    public AllocationProbe()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "allocation probe" };
        _thread.Start();
    }

    /// <summary>Bytes the work allocated since the last <see cref="Reset"/>.</summary>
    public long Allocated { get; private set; }

    /// <summary>Runs since the last <see cref="Reset"/>.</summary>
    public int Runs { get; private set; }

    /// <summary>Runs <paramref name="work"/> (a delegate made once, outside any loop) on the probe thread and waits for it.</summary>
    public void Measure(Action work)
    {
        _work = work;
        Command(Run);
    }

    /// <summary>Collects from the probe thread (retiring its allocation context) and zeroes the counters: call after warming up.</summary>
    public void Reset() => Command(Collect);

    public void Dispose()
    {
        Volatile.Write(ref _state, Stop);
        _thread.Join();
    }

    private void Command(int command)
    {
        Volatile.Write(ref _state, command);
        SpinWait spin = default;
        while (Volatile.Read(ref _state) != Done)
        {
            spin.SpinOnce();
        }

        Volatile.Write(ref _state, Idle);
    }

    private void Loop()
    {
        SpinWait spin = default;
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Run:
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    _work!();
                    long after = GC.GetAllocatedBytesForCurrentThread();
                    Allocated += after - before;
                    Runs++;
                    spin = default;
                    Volatile.Write(ref _state, Done);
                    break;
                case Collect:
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Allocated = 0;
                    Runs = 0;
                    spin = default;
                    Volatile.Write(ref _state, Done);
                    break;
                case Stop:
                    return;
                default:
                    spin.SpinOnce();
                    break;
            }
        }
    }
}
