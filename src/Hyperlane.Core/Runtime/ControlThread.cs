using Microsoft.Extensions.Logging;

namespace Hyperlane.Core.Runtime;

/// <summary>
/// The runtime's control thread (DESIGN.md, Runtime): runs alarms (one-shot and periodic) and posted
/// work such as device events, one at a time, off the data path. A callback that throws is logged
/// and does not stop the thread.
/// </summary>
public sealed partial class ControlThread : IDisposable
{
    // Ordered by due tick, then by scheduling order: work due at the same time runs first come, first served.
    private readonly PriorityQueue<Alarm, (long DueTick, long Sequence)> queue = new();
    private readonly object sync = new();
    private readonly Thread thread;
    private readonly ILogger logger;
    private bool stopping;
    private long sequence;

    internal ControlThread(ILogger logger)
    {
        this.logger = logger;
        thread = new Thread(Loop) { IsBackground = true, Name = "hyperlane-ctrl" };
        thread.Start();
    }

    /// <summary>True when called from the control thread itself.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == thread;

    /// <summary>Callbacks that threw, over the thread's life.</summary>
    public long Failures { get; private set; }

    /// <summary>Runs <paramref name="callback"/> once after <paramref name="delay"/>.</summary>
    public Alarm SetAlarm(string name, TimeSpan delay, Action callback) => Schedule(name, delay, TimeSpan.Zero, callback);

    /// <summary>Runs <paramref name="callback"/> every <paramref name="period"/>, first after one period.</summary>
    public Alarm SetPeriodic(string name, TimeSpan period, Action callback)
    {
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "a periodic alarm needs a positive period");
        }

        return Schedule(name, period, period, callback);
    }

    /// <summary>Runs <paramref name="callback"/> on the control thread as soon as it is free.</summary>
    public Alarm Post(string name, Action callback) => Schedule(name, TimeSpan.Zero, TimeSpan.Zero, callback);

    /// <summary>Runs <paramref name="callback"/> on the control thread and waits for it (or runs it inline when already there).</summary>
    public void Invoke(string name, Action callback, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (IsCurrentThread)
        {
            try
            {
                callback();
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"control thread: '{name}' failed: {ex.Message}", ex);
            }

            return;
        }

        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Post(name, () =>
        {
            try
            {
                callback();
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                done.Set();
            }
        });
        if (!done.Wait(timeout))
        {
            throw new TimeoutException($"control thread: '{name}' did not finish within {timeout.TotalMilliseconds:0} ms");
        }

        if (error is not null)
        {
            throw new InvalidOperationException($"control thread: '{name}' failed: {error.Message}", error);
        }
    }

    public void Dispose()
    {
        lock (sync)
        {
            stopping = true;
            Monitor.PulseAll(sync);
        }

        if (!IsCurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private Alarm Schedule(string name, TimeSpan delay, TimeSpan period, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "delay must not be negative");
        }

        var alarm = new Alarm(name, callback, period, Environment.TickCount64 + (long)delay.TotalMilliseconds);
        lock (sync)
        {
            if (stopping)
            {
                throw new ObjectDisposedException(nameof(ControlThread), "the control thread has stopped");
            }

            queue.Enqueue(alarm, (alarm.DueTick, sequence++));
            Monitor.PulseAll(sync);
        }

        return alarm;
    }

    private void Loop()
    {
        while (true)
        {
            Alarm? due = null;
            lock (sync)
            {
                while (due is null)
                {
                    if (stopping)
                    {
                        return;
                    }

                    if (queue.TryPeek(out var next, out var priority))
                    {
                        if (next.IsCancelled)
                        {
                            queue.Dequeue();
                            continue;
                        }

                        long wait = priority.DueTick - Environment.TickCount64;
                        if (wait <= 0)
                        {
                            due = queue.Dequeue();
                            break;
                        }

                        Monitor.Wait(sync, (int)Math.Min(wait, int.MaxValue));
                    }
                    else
                    {
                        Monitor.Wait(sync);
                    }
                }
            }

            try
            {
                due.Callback();
            }
            catch (Exception ex)
            {
                Failures++;
                LogAlarmFailed(logger, ex, due.Name);
            }

            due.Runs++;
            if (due.Period > TimeSpan.Zero && !due.IsCancelled)
            {
                lock (sync)
                {
                    due.DueTick = Math.Max(due.DueTick + (long)due.Period.TotalMilliseconds, Environment.TickCount64);
                    queue.Enqueue(due, (due.DueTick, sequence++));
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "control thread: alarm '{Alarm}' failed")]
    private static partial void LogAlarmFailed(ILogger logger, Exception ex, string alarm);
}
