using System.Collections.Concurrent;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Removal of a sub-device: Tx switches at once, the control thread tears it down, stats hold, and it comes back.</summary>
public class UnitFailoverTests
{
    private const string TwoUnits = "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll;

    private static int Send(FailsafeEthDev fs, Mempool pool, int count)
    {
        var packets = Unit.Alloc(pool, count, 0x5a);
        int sent = fs.TxBurst(0, packets);
        Mbuf.FreeBulk(packets.AsSpan(sent));
        return sent;
    }

    [Fact]
    public void Removal_switches_tx_at_once_and_the_control_thread_tears_the_sub_device_down()
    {
        using var pool = Unit.Pool("removal");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        var old = driver.Latest("net_utest0");
        Assert.Same(old, fs.GetSubDevicePort(0));
        Assert.Equal(10, Send(fs, pool, 10));
        Assert.Equal(10, old.GetStats().TxPackets);

        // With the control thread busy, no upkeep can run: the switch happens in the event handler itself.
        using (var release = Unit.BlockControlThread(rt))
        {
            old.RaiseRemoval("unplugged");
            Assert.Equal(1, fs.TxSubDeviceIndex);
            Assert.Equal(1, fs.Removals);
            Assert.Equal(1, Unit.XStat(fs, "fs_removals"));
            Assert.Equal(EthDevState.Started, old.State); // not torn down yet
            Assert.Same(old, fs.GetSubDevicePort(0));

            Assert.Equal(5, Send(fs, pool, 5));
            Assert.Equal(5, fs.GetSubDevicePort(1)!.GetStats().TxPackets);
            Assert.Equal(10, old.GetStats().TxPackets);
            Assert.Equal(15, fs.GetStats().TxPackets);

            driver.ProbeFailure = new InvalidOperationException("still unplugged");
            release.Set();
        }

        // The teardown was posted at once: no hotplug_poll period passes (it is 10 minutes here).
        Unit.WaitUntil(() => old.State == EthDevState.Closed, "the removed sub-device to be closed");
        Unit.Barrier(rt);
        Assert.Null(fs.GetSubDevicePort(0));
        Assert.Equal(SubDeviceState.Parsed, fs.GetSubDeviceState(0));
        Assert.Null(rt.Vdev.Find("net_utest0"));
        Assert.Null(rt.Ports.FindByName("net_utest0"));
        Assert.Contains("still unplugged", fs.GetSubDeviceError(0)!, StringComparison.Ordinal);
        Assert.Equal(15, fs.GetStats().TxPackets); // what the gone sub-device sent stays counted
        var events = old.Events.ToArray();
        Assert.True(Array.IndexOf(events, "stop") < Array.IndexOf(events, "close"), string.Join(",", events));
        Assert.Equal(1, fs.TxSubDeviceIndex);

        // It can be probed again: the next round brings it back and Tx returns to the preferred sub-device.
        driver.ProbeFailure = null;
        fs.RunUpkeep();
        var again = driver.Latest("net_utest0");
        Assert.NotSame(old, again);
        Assert.Same(again, fs.GetSubDevicePort(0));
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Same(fs.SubDeviceOwner, again.Owner);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal(7, Send(fs, pool, 7));
        Assert.Equal(7, again.GetStats().TxPackets);
        Assert.Equal(22, fs.GetStats().TxPackets);
        Assert.Equal(3, fs.TxSwitches); // none -> 0 at start, 0 -> 1, 1 -> 0
        Assert.Equal(1, fs.Removals);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_removed_dev_sub_device_that_can_be_probed_comes_back_without_waiting_for_the_poll()
    {
        using var pool = Unit.Pool("back");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var old = driver.Latest("net_utest0");

        old.RaiseRemoval("flap");
        Unit.WaitUntil(() => fs.GetSubDevicePort(0) is { } p && !ReferenceEquals(p, old) && fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to come back");
        Assert.Equal(EthDevState.Closed, old.State);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal(2, driver.CreatedCount("net_utest0"));
        Assert.Equal(1, driver.CreatedCount("net_utest1")); // the other one was left alone
        Assert.Equal(EthDevState.Started, driver.Latest("net_utest1").State);
    }

    /// <summary>
    /// A dev() sub-device that adopted a port the application had probed comes back after a removal: the
    /// teardown removes its device from the vdev bus (as DPDK's rte_dev_remove), so the devargs can be probed again.
    /// </summary>
    [Fact]
    public void An_adopted_dev_sub_device_comes_back_after_removal()
    {
        using var pool = Unit.Pool("adopted_back");
        using var rt = Unit.Runtime(out var driver);
        rt.Vdev.Probe("net_utest0"); // the application's port, adopted below
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var old = driver.Latest("net_utest0");
        Assert.Same(old, fs.GetSubDevicePort(0));

        old.RaiseRemoval("unplugged");
        Unit.WaitUntil(() => old.State == EthDevState.Closed, "the adopted sub-device to be torn down");
        Unit.Barrier(rt);
        fs.RunUpkeep();
        Assert.Null(fs.GetSubDeviceError(0));
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void A_reset_request_from_a_sub_device_probes_it_again()
    {
        using var pool = Unit.Pool("reset_req");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var old = driver.Latest("net_utest0");

        using (var release = Unit.BlockControlThread(rt))
        {
            old.RaiseResetRequired();
            Assert.Equal(1, fs.TxSubDeviceIndex);
            Assert.Equal(1, fs.Removals);
            release.Set();
        }

        Unit.WaitUntil(() => fs.GetSubDevicePort(0) is { } p && !ReferenceEquals(p, old) && fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to be probed again");
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void A_second_removal_event_of_the_same_attachment_counts_once_and_stale_events_are_ignored()
    {
        using var pool = Unit.Pool("dup_removal");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var old = driver.Latest("net_utest0");

        using (var release = Unit.BlockControlThread(rt))
        {
            old.RaiseRemoval("first");
            old.RaiseRemoval("second");
            Assert.Equal(1, fs.Removals);
            release.Set();
        }

        Unit.WaitUntil(() => fs.GetSubDevicePort(0) is { } p && !ReferenceEquals(p, old) && fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to come back");
        Unit.Barrier(rt);

        // The old port is closed and unsubscribed: its late events change nothing.
        old.RaiseRemoval("late");
        Assert.Equal(1, fs.Removals);
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void Teardown_waits_until_an_lcore_leaves_its_burst_on_the_removed_sub_device()
    {
        using var pool = Unit.Pool("quiesce");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var old = driver.Latest("net_utest0");
        var knobs = driver.Knobs("net_utest0");
        using var gate = new ManualResetEventSlim();
        knobs.RxGate = gate;

        int received = -1;
        var lcore = new Thread(() => received = fs.RxBurst(0, new Mbuf[32])) { IsBackground = true, Name = "fs-unit-burst" };
        lcore.Start();
        Assert.True(knobs.RxEntered.Wait(Unit.Timeout), "the burst never reached the sub-device");

        old.RaiseRemoval("unplugged during a burst");
        Assert.Equal(1, fs.TxSubDeviceIndex); // Tx switched at once

        // The control thread is now tearing it down: it must wait for the burst.
        Thread.Sleep(200);
        Assert.DoesNotContain("stop", old.Events);
        Assert.DoesNotContain("release-rx", old.Events);
        Assert.DoesNotContain("close", old.Events);
        Assert.NotEqual(EthDevState.Closed, old.State);

        knobs.RxGate = null;
        gate.Set();
        Assert.True(lcore.Join(Unit.Timeout));
        Assert.Equal(0, received);
        Unit.WaitUntil(() => old.State == EthDevState.Closed, "the removed sub-device to be closed");
        var events = old.Events.ToList();
        int end = events.IndexOf("receive-end");
        Assert.True(end >= 0 && end < events.IndexOf("stop") && events.IndexOf("stop") < events.IndexOf("release-rx") && events.IndexOf("release-rx") < events.IndexOf("close"), string.Join(",", events));
        Unit.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to come back");
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void Link_status_follows_the_tx_sub_device_and_its_changes_are_raised_on_the_control_thread()
    {
        using var pool = Unit.Pool("link");
        using var rt = Unit.Runtime(out var driver);
        var events = new ConcurrentQueue<(EthDevEventType Type, string? Detail, bool OnControlThread)>();
        var fs = Unit.Probe(rt, TwoUnits);
        rt.Ports.EventRaised += (_, e) =>
        {
            if (e.PortId == fs.PortId)
            {
                events.Enqueue((e.Type, e.Detail, rt.Control.IsCurrentThread));
            }
        };

        Assert.False(fs.GetLink().IsUp); // not started
        Unit.Start(fs, pool);
        Unit.WaitUntil(() => events.Any(e => e.Type == EthDevEventType.LinkStatusChange), "the link event of the first Tx sub-device");
        Assert.Contains("sub-device 0", events.Single().Detail, StringComparison.Ordinal);
        Assert.Equal(LinkStatus.Up(LinkSpeed.Gbps25), fs.GetLink());

        var sub0 = driver.Latest("net_utest0");
        var sub1 = driver.Latest("net_utest1");
        // Sub-device 0's link goes down: Tx moves to sub-device 1, whose link is up, at once.
        sub0.RaiseLinkChange(up: false);
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.True(fs.GetLink().IsUp); // sub-device 1's
        Unit.WaitUntil(() => events.Count == 2, "the link event of the Tx switch");
        Assert.Contains("sub-device 1", events.Last().Detail, StringComparison.Ordinal);

        // Its link comes back: Tx returns to the preferred sub-device.
        sub0.RaiseLinkChange(up: true);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Unit.WaitUntil(() => events.Count == 3, "the link event of the switch back");

        sub1.RaiseLinkChange(up: false); // not the Tx sub-device: no event of the failsafe port
        sub1.RaiseLinkChange(up: true);
        Unit.Barrier(rt);
        Assert.Equal(3, events.Count);

        // Both links down: Tx stays on the preferred one, and the port's link (its link) is down.
        sub0.RaiseLinkChange(up: false);
        sub1.RaiseLinkChange(up: false);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.False(fs.GetLink().IsUp);
        sub1.RaiseLinkChange(up: true);
        Assert.Equal(1, fs.TxSubDeviceIndex);
        sub0.RaiseLinkChange(up: true);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Unit.Barrier(rt);
        int before = events.Count;
        long switchesBefore = fs.TxSwitches;

        driver.ProbeFailure = new InvalidOperationException("gone");
        sub0.RaiseRemoval("unplugged");
        Assert.True(fs.GetLink().IsUp); // now sub-device 1's
        Unit.WaitUntil(() => events.Count == before + 1, "the link event of the Tx switch");
        Assert.Contains("sub-device 1", events.Last().Detail, StringComparison.Ordinal);

        sub1.RaiseRemoval("unplugged too");
        Assert.Equal(-1, fs.TxSubDeviceIndex);
        Assert.False(fs.GetLink().IsUp);
        Unit.WaitUntil(() => events.Count == before + 2, "the link event of no Tx sub-device");
        Assert.Contains("no sub-device can transmit", events.Last().Detail, StringComparison.Ordinal);
        var kept = Unit.Alloc(pool, 2, 0);
        Assert.Equal(0, fs.TxBurst(0, kept));
        Mbuf.FreeBulk(kept);

        driver.ProbeFailure = null;
        driver.Knobs("net_utest0").LinkUp = true; // the device probed again is up
        fs.RunUpkeep();
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.True(fs.GetLink().IsUp);
        Unit.WaitUntil(() => events.Count == before + 3, "the link event of the return");
        Unit.Barrier(rt);

        Assert.All(events, e => Assert.Equal(EthDevEventType.LinkStatusChange, e.Type));
        Assert.All(events, e => Assert.True(e.OnControlThread, $"'{e.Detail}' was raised off the control thread"));
        Assert.Equal(switchesBefore + 3, fs.TxSwitches); // 0 -> 1, 1 -> none, none -> 0
    }

    [Fact]
    public void Tx_with_no_started_sub_device_takes_nothing_and_rx_gives_nothing()
    {
        using var pool = Unit.Pool("none");
        using var rt = Unit.Runtime(out var driver);
        driver.ProbeFailure = new InvalidOperationException("absent");
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        Assert.Equal(-1, fs.TxSubDeviceIndex);
        var packets = Unit.Alloc(pool, 4, 1);
        Assert.Equal(0, fs.TxBurst(0, packets)); // the caller keeps them
        Mbuf.FreeBulk(packets);
        Assert.Equal(0, fs.RxBurst(0, new Mbuf[4]));
        Assert.False(fs.GetLink().IsUp);
        Assert.True(pool.Audit().IsFull);
    }
}
