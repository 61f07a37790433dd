using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>net_failsafe devargs: what probes, what is refused with a clear one-line error, and what is only logged and counted.</summary>
public class UnitDevargsTests
{
    /// <summary>Probing must fail with <typeparamref name="T"/> on one line naming what was wrong, and leave nothing behind.</summary>
    private static T AssertProbeFails<T>(string devargs, params string[] fragments)
        where T : Exception
    {
        using var rt = Unit.Runtime(out _);
        var ex = Assert.Throws<T>(() => rt.Vdev.Probe(devargs));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
        Assert.StartsWith("net_failsafe0: ", ex.Message, StringComparison.Ordinal);
        foreach (var f in fragments)
        {
            Assert.Contains(f, ex.Message, StringComparison.Ordinal);
        }

        Assert.Empty(rt.Ports.All);
        Assert.Empty(rt.Vdev.Devices);

        // Nothing was reserved: the same name probes fine now.
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0)");
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(0));
        return ex;
    }

    [Fact]
    public void Two_dev_subdevices_probe_with_the_failsafe_port_first_and_its_sub_devices_hidden()
    {
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)");

        Assert.Equal(0, fs.PortId);
        Assert.Equal(2, fs.SubDeviceCount);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), fs.HotplugPoll);
        Assert.Equal(-1, fs.TxSubDeviceIndex); // not started
        var sub0 = fs.GetSubDevicePort(0)!;
        var sub1 = fs.GetSubDevicePort(1)!;
        Assert.Equal("net_null0", sub0.Name);
        Assert.Equal("net_null1", sub1.Name);
        Assert.True(sub0.PortId > fs.PortId && sub1.PortId > sub0.PortId);
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(1));
        Assert.Null(fs.GetSubDeviceError(0));
        Assert.Null(fs.GetSubDeviceError(1));
        Assert.Equal(sub0.MacAddress, fs.MacAddress); // no mac=: the first sub-device's
        Assert.Equal([fs], rt.Ports.Ports);
        Assert.Equal([fs, sub0, sub1], rt.Ports.All);
        Assert.Equal(0, fs.ProbeFailures);
        Assert.Equal(0, fs.SourceErrors);
    }

    [Fact]
    public void Extended_stats_report_the_failsafe_counters_and_sub_device_states()
    {
        using var pool = Unit.Pool("xstats");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),fd(1000000),dev(net_utest2,fail=1)," + Unit.NoPoll);
        var names = fs.GetXStatNames();
        string[] expected = ["fs_tx_subdevice", "fs_tx_switches", "fs_removals", "fs_probe_failures", "fs_source_errors", "fs_operation_failures", "fs_sub0_state", "fs_sub1_state", "fs_sub2_state"];
        Assert.Equal(expected, names.Where(n => n.StartsWith("fs_", StringComparison.Ordinal)));
        Assert.Equal(-1, Unit.XStat(fs, "fs_tx_subdevice"));
        Assert.Equal((long)SubDeviceState.Probed, Unit.XStat(fs, "fs_sub0_state"));
        Assert.Equal((long)SubDeviceState.Undefined, Unit.XStat(fs, "fs_sub1_state"));
        Assert.Equal((long)SubDeviceState.Parsed, Unit.XStat(fs, "fs_sub2_state"));
        Assert.Equal(1, Unit.XStat(fs, "fs_source_errors"));
        Assert.Equal(1, Unit.XStat(fs, "fs_probe_failures"));

        Unit.Start(fs, pool);
        Assert.Equal(0, Unit.XStat(fs, "fs_tx_subdevice"));
        Assert.Equal(1, Unit.XStat(fs, "fs_tx_switches"));
        Assert.Equal((long)SubDeviceState.Started, Unit.XStat(fs, "fs_sub0_state"));
        Assert.Equal(0, Unit.XStat(fs, "fs_removals"));

        // A reset zeroes the counters, as DPDK's xstats_reset does; the states are not counts and stay.
        fs.ResetStats();
        Assert.Equal(0, Unit.XStat(fs, "fs_tx_switches"));
        Assert.Equal(0, Unit.XStat(fs, "fs_source_errors"));
        Assert.Equal(0, Unit.XStat(fs, "fs_probe_failures"));
        Assert.Equal(0, Unit.XStat(fs, "fs_tx_subdevice"));
        Assert.Equal((long)SubDeviceState.Started, Unit.XStat(fs, "fs_sub0_state"));
        Assert.Equal(1, fs.TxSwitches); // the property counts since probe
    }

    [Fact]
    public void Mac_and_hotplug_poll_are_per_instance()
    {
        using var rt = Unit.Runtime(out _);
        var a = Unit.Probe(rt, "net_failsafe0,mac=02:11:22:33:44:55,hotplug_poll=150,dev(net_null0)");
        var b = Unit.Probe(rt, "net_failsafe1,dev(net_null1)");
        Assert.Equal(MacAddress.Parse("02:11:22:33:44:55"), a.MacAddress);
        Assert.Equal(TimeSpan.FromMilliseconds(150), a.HotplugPoll);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), b.HotplugPoll);
        Assert.Equal(b.GetSubDevicePort(0)!.MacAddress, b.MacAddress);
        Assert.Equal([a, b], rt.Ports.Ports);
    }

    [Fact]
    public void The_eth_failsafe_alias_probes_too()
    {
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "eth_failsafe0,dev(net_null0)");
        Assert.Equal("net_failsafe", fs.DriverName);
    }

    [Fact]
    public void Eight_sub_devices_are_allowed_and_all_carry_traffic()
    {
        using var pool = Unit.Pool("eight", 2048);
        using var rt = Unit.Runtime(out _);
        string subs = string.Join(',', Enumerable.Range(0, 8).Select(i => $"dev(net_null{i})"));
        var fs = Unit.Probe(rt, "net_failsafe0," + subs);
        Assert.Equal(8, fs.SubDeviceCount);
        Unit.Start(fs, pool);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(i));
        }

        var burst = new Mbuf[64];
        Assert.Equal(64, fs.RxBurst(0, burst));
        Mbuf.FreeBulk(burst);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(8, fs.GetSubDevicePort(i)!.GetStats().RxPackets); // an equal share each
        }

        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal(64, fs.GetStats().RxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Unbalanced_parentheses_are_refused()
    {
        var ex = AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0", "unbalanced parentheses");
        Assert.Equal("net_failsafe0", ex.DeviceName);
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0)),dev(net_null1)", "unbalanced parentheses");
    }

    [Fact]
    public void No_sub_device_is_refused()
    {
        AssertProbeFails<DevargsException>("net_failsafe0", "at least one sub-device is needed");
        AssertProbeFails<DevargsException>("net_failsafe0,mac=02:00:00:00:00:01,hotplug_poll=100", "at least one sub-device is needed");
    }

    [Fact]
    public void Nine_sub_devices_are_refused()
    {
        string nineDev = "net_failsafe0," + string.Join(',', Enumerable.Range(0, 9).Select(i => $"dev(net_null{i})"));
        AssertProbeFails<DevargsException>(nineDev, "'dev'", "8");

        string mixed = "net_failsafe0," + string.Join(',', Enumerable.Range(0, 5).Select(i => $"dev(net_null{i})")) + ","
            + string.Join(',', Enumerable.Range(0, 4).Select(i => $"exec({Unit.Echo},net_null{10 + i})"));
        AssertProbeFails<DevargsException>(mixed, "9 sub-devices given", "at most 8");
    }

    [Fact]
    public void Dev_of_an_unknown_driver_is_refused()
    {
        var ex = AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),dev(net_bogus0)", "no driver for device 'net_bogus0'");
        Assert.Equal("dev", ex.Key);
    }

    [Fact]
    public void The_same_sub_device_twice_is_refused()
    {
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),dev(net_null0,size=128)", "'net_null0'", "twice");
    }

    [Fact]
    public void A_malformed_or_multicast_mac_is_refused()
    {
        var ex = AssertProbeFails<DevargsException>("net_failsafe0,mac=02:00:zz:00:00:01,dev(net_null0)", "mac");
        Assert.Equal("mac", ex.Key);
        AssertProbeFails<DevargsException>("net_failsafe0,mac=01:00:5e:00:00:01,dev(net_null0)", "not a unicast address");
    }

    [Fact]
    public void Fd_of_a_non_number_is_refused()
    {
        var ex = AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),fd(abc)", "fd(abc)", "not a file descriptor number");
        Assert.Equal("fd", ex.Key);
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),fd(-1)", "not a file descriptor number");
    }

    [Fact]
    public void Other_mistakes_are_refused_with_the_key_named()
    {
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_failsafe0,dev(net_null0))", "failsafe port itself");
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),hotplug_poll=0", "hotplug_poll");
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),bogus=1", "unknown key 'bogus'");
        AssertProbeFails<DevargsException>("net_failsafe0,dev()", "'dev'");
        AssertProbeFails<DevargsException>("net_failsafe0,dev=net_null0", "dev(");
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0),exec( )", "exec() needs a command");
        AssertProbeFails<DevargsException>("net_failsafe0,dev(net_null0,(x)", "unbalanced parentheses");
    }

    [Fact]
    public void Exec_of_a_missing_program_leaves_the_port_working_on_the_others()
    {
        using var pool = Unit.Pool("exec_missing");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,exec(/nonexistent/hyperlane-no-such-program,arg),dev(net_null1)," + Unit.NoPoll);

        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        Assert.Null(fs.GetSubDevicePort(0));
        string error = fs.GetSubDeviceError(0)!;
        Assert.Contains("/nonexistent/hyperlane-no-such-program", error, StringComparison.Ordinal);
        Assert.Contains("cannot run", error, StringComparison.Ordinal);
        Assert.Equal(1, fs.SourceErrors);
        Assert.Equal(1, Unit.XStat(fs, "fs_source_errors"));
        Assert.Equal(0, fs.ProbeFailures);

        AssertWorksOnSubDevice(fs, pool, 1);

        long errors = fs.SourceErrors;
        fs.RunUpkeep(); // tried again each round, counted each time
        Assert.Equal(errors + 1, fs.SourceErrors);
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        Assert.Equal(1, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void Fd_of_a_closed_descriptor_leaves_the_port_working_on_the_others()
    {
        using var pool = Unit.Pool("fd_closed");
        using var rt = Unit.Runtime(out _);
        // Far above any open descriptor (and above RLIMIT_NOFILE): fcntl gives EBADF.
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),fd(1000000)," + Unit.NoPoll);

        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
        Assert.Contains("fd(1000000)", fs.GetSubDeviceError(1)!, StringComparison.Ordinal);
        Assert.Contains("not an open file descriptor", fs.GetSubDeviceError(1)!, StringComparison.Ordinal);
        Assert.Equal(1, fs.SourceErrors);
        Assert.Equal(1, Unit.XStat(fs, "fs_source_errors"));
        AssertWorksOnSubDevice(fs, pool, 0);
    }

    [Fact]
    public void A_sub_device_that_never_probes_leaves_the_port_working_on_the_others()
    {
        using var pool = Unit.Pool("never");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0,fail=1),dev(net_null1)," + Unit.NoPoll);

        Assert.Equal(SubDeviceState.Parsed, fs.GetSubDeviceState(0));
        Assert.Null(fs.GetSubDevicePort(0));
        string error = fs.GetSubDeviceError(0)!;
        Assert.Contains("net_utest0", error, StringComparison.Ordinal);
        Assert.Contains("told to fail", error, StringComparison.Ordinal);
        Assert.Equal(1, fs.ProbeFailures);
        Assert.Equal(1, Unit.XStat(fs, "fs_probe_failures"));
        Assert.Equal(0, fs.SourceErrors);
        Assert.Equal((long)SubDeviceState.Parsed, Unit.XStat(fs, "fs_sub0_state"));
        Assert.Equal((long)SubDeviceState.Probed, Unit.XStat(fs, "fs_sub1_state"));

        AssertWorksOnSubDevice(fs, pool, 1);
        Assert.Equal(1, fs.TxSubDeviceIndex);

        // Probed again each round (configure and start run a round too), and failing again.
        long failures = fs.ProbeFailures;
        Assert.Equal(failures, driver.Probes);
        fs.RunUpkeep();
        Assert.Equal(failures + 1, fs.ProbeFailures);
        Assert.Equal(failures + 1, driver.Probes);
        Assert.Equal(failures + 1, Unit.XStat(fs, "fs_probe_failures"));
        Assert.Null(rt.Vdev.Find("net_utest0"));
        Assert.Null(rt.Ports.FindByName("net_utest0"));
    }

    [Fact]
    public void A_dev_sub_device_failing_probe_at_first_arrives_once_it_can_be_probed()
    {
        using var pool = Unit.Pool("late_dev");
        using var rt = Unit.Runtime(out var driver);
        driver.ProbeFailure = new InvalidOperationException("not there yet");
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_null1)," + Unit.NoPoll);
        Unit.Start(fs, pool);
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.Contains("not there yet", fs.GetSubDeviceError(0)!, StringComparison.Ordinal);

        driver.ProbeFailure = null;
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(0, fs.TxSubDeviceIndex); // the preferred one
        Assert.Null(fs.GetSubDeviceError(0));
        Assert.True(fs.ProbeFailures >= 1);
    }

    /// <summary>The port starts and carries traffic through <paramref name="index"/>, the only sub-device present.</summary>
    private static void AssertWorksOnSubDevice(FailsafeEthDev fs, Mempool pool, int index)
    {
        Unit.Start(fs, pool);
        Assert.Equal(index, fs.TxSubDeviceIndex);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(index));
        var burst = new Mbuf[8];
        Assert.Equal(8, fs.RxBurst(0, burst));
        Assert.All(burst, m => Assert.Equal(fs.PortId, m.Port));
        Assert.Equal(8, fs.TxBurst(0, burst));
        var s = fs.GetStats();
        Assert.Equal(8, s.RxPackets);
        Assert.Equal(8, s.TxPackets);
        Assert.Equal(8, fs.GetSubDevicePort(index)!.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull);
    }
}
