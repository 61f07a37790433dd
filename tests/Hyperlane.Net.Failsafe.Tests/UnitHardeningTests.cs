using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>FS-04: a sub-device whose configure, queue setup or start fails is removed; the port goes on with the others.</summary>
public class UnitHardeningTests
{
    private const string TwoUnits = "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll;

    /// <summary>
    /// Sub-device 0 fails <paramref name="hook"/> every time. The application's control operations all succeed, the
    /// port carries traffic on sub-device 1, the failure is visible and counted, and once the hook works again an
    /// upkeep round brings sub-device 0 back as the Tx sub-device.
    /// </summary>
    private static void FailingHookRemovesTheSubDevice(string hook, string operation)
    {
        using var pool = Unit.Pool("fs04_" + hook);
        using var rt = Unit.Runtime(out var driver);
        var knobs = driver.Knobs("net_utest0");
        knobs.Fail[hook] = true;
        var fs = Unit.Probe(rt, TwoUnits);

        Unit.Start(fs, pool); // never throws for a sub-device's failure
        Assert.Equal(EthDevState.Started, fs.State);
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        Assert.True(fs.GetSubDeviceState(0) < SubDeviceState.Started);
        Assert.True(fs.Removals >= 1);
        Assert.True(Unit.XStat(fs, "fs_operation_failures") >= 1);
        Unit.WaitUntil(
            () => fs.GetSubDeviceError(0) is { } e && e.Contains(operation + " failed", StringComparison.Ordinal) && e.Contains(hook + " was told to fail", StringComparison.Ordinal),
            $"the error of sub-device 0 to name the failed {hook}");

        // Traffic goes through sub-device 1.
        var packets = Unit.Alloc(pool, 16, 1);
        Assert.Equal(16, fs.TxBurst(0, packets));
        Assert.Equal(16, driver.Latest("net_utest1").GetStats().TxPackets);
        Assert.Equal(16, fs.GetStats().TxPackets);

        // No failed attempt is left probed or open behind the port's back.
        Unit.Barrier(rt);
        fs.RunUpkeep();
        Assert.True(fs.GetSubDeviceState(0) < SubDeviceState.Started);
        Assert.Equal(1, fs.TxSubDeviceIndex);

        knobs.Fail.TryRemove(hook, out _);
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Null(fs.GetSubDeviceError(0));
        var current = driver.Latest("net_utest0");
        Assert.Same(current, fs.GetSubDevicePort(0));
        packets = Unit.Alloc(pool, 4, 2);
        Assert.Equal(4, fs.TxBurst(0, packets));
        Assert.Equal(4, current.GetStats().TxPackets);
        Assert.Equal(20, fs.GetStats().TxPackets);
        Unit.Barrier(rt);
        Assert.Equal([current], rt.Ports.All.Where(p => p.Name == "net_utest0"));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_sub_device_whose_configure_fails_is_removed_and_the_port_works_on_the_other() =>
        FailingHookRemovesTheSubDevice("configure", "configure");

    [Fact]
    public void A_sub_device_whose_rx_queue_setup_fails_is_removed_and_the_port_works_on_the_other() =>
        FailingHookRemovesTheSubDevice("rxsetup", string.Empty);

    [Fact]
    public void A_sub_device_whose_tx_queue_setup_fails_is_removed_and_the_port_works_on_the_other() =>
        FailingHookRemovesTheSubDevice("txsetup", string.Empty);

    [Fact]
    public void A_sub_device_whose_start_fails_is_removed_and_the_port_works_on_the_other() =>
        FailingHookRemovesTheSubDevice("start", "start");

    /// <summary>
    /// A sub-device whose configure keeps failing is retried once per upkeep round (every hotplug_poll), not in
    /// a loop: a failure inside a round does not post another round.
    /// </summary>
    [Fact]
    public void A_sub_device_that_keeps_failing_is_retried_per_upkeep_round_not_in_a_loop()
    {
        using var pool = Unit.Pool("fs04_loop");
        using var rt = Unit.Runtime(out var driver);
        driver.Knobs("net_utest0").Fail["configure"] = true;
        var fs = Unit.Probe(rt, TwoUnits); // hotplug_poll of 10 minutes: no periodic round during the test
        Unit.Start(fs, pool);
        Unit.Barrier(rt);

        int before = driver.Probes;
        long removals = fs.Removals;
        Thread.Sleep(300);
        Unit.Barrier(rt);
        int probes = driver.Probes - before;
        Assert.True(probes <= 1, $"sub-device 0 was probed {probes} times (and removed {fs.Removals - removals} times) in 300 ms with hotplug_poll=600000: every failed upkeep round posts the next one at once");
        Assert.Equal(1, fs.TxSubDeviceIndex);
    }
}
