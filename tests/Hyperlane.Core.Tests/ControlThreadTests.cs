using Hyperlane.Core.Runtime;

namespace Hyperlane.Core.Tests;

public class ControlThreadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>Returns once everything posted before it has run (the control thread is one thread).</summary>
    private static void Drain(ControlThread control) => control.Invoke("drain", () => { }, Patience);

    [Fact]
    public void A_one_shot_alarm_fires_once()
    {
        using var rt = new HyperlaneRuntime();
        using var fired = new ManualResetEventSlim();
        int runs = 0;

        var alarm = rt.Control.SetAlarm("once", TimeSpan.FromMilliseconds(20), () =>
        {
            Interlocked.Increment(ref runs);
            fired.Set();
        });

        Assert.Equal("once", alarm.Name);
        Assert.Equal(TimeSpan.Zero, alarm.Period);
        Assert.True(fired.Wait(Patience));
        Thread.Sleep(60);
        Drain(rt.Control);
        Assert.Equal(1, Volatile.Read(ref runs));
        Assert.Equal(1, alarm.Runs);
    }

    [Fact]
    public void A_periodic_alarm_fires_repeatedly_and_stops_after_cancel()
    {
        using var rt = new HyperlaneRuntime();
        using var thrice = new CountdownEvent(3);
        int runs = 0;

        var alarm = rt.Control.SetPeriodic("tick", TimeSpan.FromMilliseconds(10), () =>
        {
            Interlocked.Increment(ref runs);
            if (!thrice.IsSet)
            {
                thrice.Signal();
            }
        });

        Assert.True(thrice.Wait(Patience));
        alarm.Cancel();
        Assert.True(alarm.IsCancelled);
        Drain(rt.Control); // a run in progress has finished
        int atCancel = Volatile.Read(ref runs);
        Assert.True(atCancel >= 3);
        Thread.Sleep(60);
        Drain(rt.Control);
        Assert.Equal(atCancel, Volatile.Read(ref runs));
        Assert.Equal(atCancel, alarm.Runs);
    }

    [Fact]
    public void A_cancelled_alarm_never_runs()
    {
        using var rt = new HyperlaneRuntime();
        int runs = 0;

        var alarm = rt.Control.SetAlarm("never", TimeSpan.FromMilliseconds(30), () => Interlocked.Increment(ref runs));
        alarm.Cancel();
        Thread.Sleep(60);
        Drain(rt.Control);

        Assert.Equal(0, Volatile.Read(ref runs));
        Assert.Equal(0, alarm.Runs);
    }

    [Fact]
    public void Alarms_fire_in_due_order()
    {
        using var rt = new HyperlaneRuntime();
        var order = new List<string>();
        using var done = new ManualResetEventSlim();

        rt.Control.SetAlarm("c", TimeSpan.FromMilliseconds(90), () => { lock (order) { order.Add("c"); } done.Set(); });
        rt.Control.SetAlarm("a", TimeSpan.FromMilliseconds(30), () => { lock (order) { order.Add("a"); } });
        rt.Control.SetAlarm("b", TimeSpan.FromMilliseconds(60), () => { lock (order) { order.Add("b"); } });
        rt.Control.Post("now", () => { lock (order) { order.Add("now"); } });

        Assert.True(done.Wait(Patience));
        lock (order)
        {
            Assert.Equal(["now", "a", "b", "c"], order);
        }
    }

    [Fact]
    public void Work_due_at_the_same_time_runs_in_the_order_it_was_posted()
    {
        using var rt = new HyperlaneRuntime();
        using var gate = new ManualResetEventSlim();
        var order = new List<int>();

        rt.Control.Post("gate", () => gate.Wait(Patience)); // hold the thread so the rest queue up
        for (int i = 0; i < 200; i++)
        {
            int n = i;
            rt.Control.Post("event " + n, () => order.Add(n));
        }

        gate.Set();
        Drain(rt.Control);
        Assert.Equal(Enumerable.Range(0, 200), order);
    }

    [Fact]
    public void A_throwing_callback_is_counted_and_later_alarms_still_run()
    {
        using var rt = new HyperlaneRuntime();
        using var later = new ManualResetEventSlim();
        int ticks = 0;

        rt.Control.Post("bad", () => throw new InvalidOperationException("callback bug"));
        var periodic = rt.Control.SetPeriodic("bad tick", TimeSpan.FromMilliseconds(5), () =>
        {
            if (Interlocked.Increment(ref ticks) <= 2)
            {
                throw new InvalidOperationException("periodic bug");
            }
        });
        rt.Control.SetAlarm("good", TimeSpan.FromMilliseconds(40), later.Set);

        Assert.True(later.Wait(Patience));
        SpinWait.SpinUntil(() => Volatile.Read(ref ticks) >= 4, Patience);
        periodic.Cancel();
        Drain(rt.Control);
        Assert.Equal(3, rt.Control.Failures);
        Assert.True(periodic.Runs >= 4); // a periodic alarm that throws keeps its schedule
    }

    [Fact]
    public void Invoke_runs_on_the_control_thread()
    {
        using var rt = new HyperlaneRuntime();
        bool onControl = false;
        string? name = null;

        Assert.False(rt.Control.IsCurrentThread);
        rt.Control.Invoke("where", () =>
        {
            onControl = rt.Control.IsCurrentThread;
            name = Thread.CurrentThread.Name;
            rt.Control.Invoke("nested", () => name += "+nested", Patience); // inline, no deadlock
        }, Patience);

        Assert.True(onControl);
        Assert.Equal("hyperlane-ctrl+nested", name);
    }

    [Fact]
    public void Invoke_propagates_an_exception_as_invalid_operation_naming_the_work()
    {
        using var rt = new HyperlaneRuntime();
        var cause = new IOException("netlink socket closed");

        var ex = Assert.Throws<InvalidOperationException>(() => rt.Control.Invoke("link refresh", () => throw cause, Patience));

        Assert.Equal("control thread: 'link refresh' failed: netlink socket closed", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(0, rt.Control.Failures); // the caller got it: not a control-thread failure
        Drain(rt.Control);
    }

    [Fact]
    public void Invoke_times_out_naming_the_work_and_the_thread_goes_on()
    {
        using var rt = new HyperlaneRuntime();
        using var gate = new ManualResetEventSlim();
        bool ran = false;

        var ex = Assert.Throws<TimeoutException>(() => rt.Control.Invoke("device reset", () => { gate.Wait(Patience); ran = true; }, TimeSpan.FromMilliseconds(50)));

        Assert.Equal("control thread: 'device reset' did not finish within 50 ms", ex.Message);
        gate.Set();
        Drain(rt.Control);
        Assert.True(ran);
        Assert.Equal(0, rt.Control.Failures);
    }

    [Fact]
    public void Bad_schedules_and_use_after_dispose_are_refused()
    {
        var rt = new HyperlaneRuntime();
        try
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => rt.Control.SetPeriodic("zero", TimeSpan.Zero, () => { }));
            Assert.Throws<ArgumentOutOfRangeException>(() => rt.Control.SetAlarm("past", TimeSpan.FromMilliseconds(-1), () => { }));
            Assert.Throws<ArgumentNullException>(() => rt.Control.Post("null", null!));
        }
        finally
        {
            rt.Dispose();
        }

        Assert.Throws<ObjectDisposedException>(() => rt.Control.Post("late", () => { }));
        rt.Control.Dispose();
    }
}
