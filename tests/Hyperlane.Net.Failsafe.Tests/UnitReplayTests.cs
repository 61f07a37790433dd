using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Sub-device states follow the port; a sub-device that arrives later gets the port's configuration replayed.</summary>
public class UnitReplayTests
{
    private static readonly MacAddress PortMac = MacAddress.Parse("02:aa:00:00:00:01");
    private static readonly MacAddress ExtraMac = MacAddress.Parse("02:bb:00:00:00:02");
    private static readonly MacAddress[] Groups = [MacAddress.Parse("01:00:5e:00:00:01"), MacAddress.Parse("33:33:00:00:00:01")];
    private static readonly EthConf Conf = new() { RxOffloads = RxOffloads.Checksum, TxOffloads = TxOffloads.Checksum };

    /// <summary>Configures two queues, sets every replayable setting and starts the port.</summary>
    private static void ConfigureEverything(FailsafeEthDev fs, Mempool pool)
    {
        Unit.Configure(fs, pool, queues: 2, Conf);
        fs.SetMtu(4000);
        fs.SetMacAddress(PortMac);
        fs.EnablePromiscuous();
        fs.EnableAllMulticast();
        fs.SetMulticastList(Groups);
        fs.AddMacAddress(ExtraMac);
        fs.Start();
    }

    /// <summary>The sub-device has the port's configuration.</summary>
    private static void AssertReplayed(FailsafeEthDev fs, EthDev sub)
    {
        Assert.Equal(EthDevState.Started, sub.State);
        Assert.Equal(2, sub.RxQueueCount);
        Assert.Equal(2, sub.TxQueueCount);
        Assert.Equal(Conf.RxOffloads, sub.Configuration!.RxOffloads);
        Assert.Equal(Conf.TxOffloads, sub.Configuration.TxOffloads);
        Assert.Equal(4000, sub.Mtu);
        Assert.Equal(PortMac, sub.MacAddress);
        Assert.Equal(fs.MacAddress, sub.MacAddress);
        Assert.True(sub.Promiscuous);
        Assert.True(sub.AllMulticast);
        Assert.Equal(Groups, sub.MulticastAddresses);
        Assert.Equal([ExtraMac], sub.ExtraMacAddresses);
    }

    [Fact]
    public void Sub_device_states_follow_the_port_state()
    {
        using var pool = Unit.Pool("states");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll);
        var subs = new[] { driver.Latest("net_utest0"), driver.Latest("net_utest1") };

        void States(SubDeviceState expected, EthDevState port)
        {
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(expected, fs.GetSubDeviceState(i));
                Assert.Equal(port, subs[i].State);
                Assert.Same(subs[i], fs.GetSubDevicePort(i));
            }
        }

        States(SubDeviceState.Probed, EthDevState.Unconfigured);
        Unit.Configure(fs, pool);
        States(SubDeviceState.Active, EthDevState.Configured);
        Assert.Equal(-1, fs.TxSubDeviceIndex);
        fs.Start();
        States(SubDeviceState.Started, EthDevState.Started);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        fs.Stop();
        States(SubDeviceState.Active, EthDevState.Configured);
        Assert.Equal(-1, fs.TxSubDeviceIndex);
        Assert.Equal(0, fs.RxBurst(0, new Mbuf[4]));
        fs.Start();
        States(SubDeviceState.Started, EthDevState.Started);
        fs.Reset();
        States(SubDeviceState.Probed, EthDevState.Unconfigured);
        Assert.Equal(-1, fs.TxSubDeviceIndex);

        // Reconfigured after a reset, with another queue count.
        Unit.Start(fs, pool, queues: 2);
        States(SubDeviceState.Started, EthDevState.Started);
        Assert.All(subs, s => Assert.Equal(2, s.RxQueueCount));
        Assert.All(subs, s => Assert.Equal(["configure", "rxsetup", "txsetup", "start", "stop", "start", "stop", "reset", "configure", "rxsetup", "txsetup", "rxsetup", "txsetup", "start"], s.Events.Where(e => e is "configure" or "rxsetup" or "txsetup" or "start" or "stop" or "reset")));
        Assert.All(subs, s => Assert.Equal(fs.MacAddress, s.MacAddress)); // both carry the port's MAC (sub-device 0's)

        fs.Close();
        Assert.All(subs, s => Assert.Equal(EthDevState.Closed, s.State));
        Assert.All(subs, s => Assert.Equal("close", s.Events.Last()));
        Assert.Null(rt.Vdev.Find("net_utest0"));
        Assert.Null(rt.Vdev.Find("net_utest1"));
        Assert.Empty(rt.Ports.All);
    }

    [Fact]
    public void Configuration_is_replayed_on_a_sub_device_that_arrives_later_through_exec()
    {
        using var pool = Unit.Pool("replay_exec");
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out var driver);
        string file = dir.File("devargs");
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_utest0),exec({Unit.Cat},{file}),{Unit.NoPoll}");
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
        ConfigureEverything(fs, pool);
        AssertReplayed(fs, driver.Latest("net_utest0"));

        File.WriteAllText(file, "net_utest1\n");
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        var late = driver.Latest("net_utest1");
        AssertReplayed(fs, late);
        Assert.Same(fs.SubDeviceOwner, late.Owner);

        // It carries traffic on both queues; what it receives carries the failsafe port's id.
        late.Knobs.Generate = true;
        late.Knobs.Tag = 7;
        var burst = new Mbuf[8];
        Assert.Equal(8, fs.RxBurst(1, burst));
        Assert.All(burst, m => Assert.Equal(fs.PortId, m.Port));
        Assert.All(burst, m => Assert.Equal(7, m.Data[0]));
        Mbuf.FreeBulk(burst);
        Assert.Equal(8, late.GetStats().RxQueues[1].Packets);
        Assert.Equal(8, fs.GetStats().RxQueues[1].Packets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Configuration_is_replayed_on_a_dev_sub_device_added_again_after_removal()
    {
        using var pool = Unit.Pool("replay_again");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll);
        ConfigureEverything(fs, pool);
        fs.SetLinkDown();
        var old = driver.Latest("net_utest0");
        AssertReplayed(fs, old);

        old.RaiseRemoval("unplugged");
        Unit.WaitUntil(() => fs.GetSubDevicePort(0) is { } p && !ReferenceEquals(p, old) && fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to come back");
        var again = driver.Latest("net_utest0");
        AssertReplayed(fs, again);
        Assert.Contains("linkdown", again.Events);
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void Configuration_is_replayed_on_an_fd_sub_device_added_again_after_removal()
    {
        using var pool = Unit.Pool("replay_fd");
        using var rt = Unit.Runtime(out var driver);
        var (read, write) = Unit.Pipe();
        using (write)
        {
            FailsafeEthDev fs;
            using (read)
            {
                fs = Unit.Probe(rt, $"net_failsafe0,dev(net_utest0),fd({read.Fd}),{Unit.NoPoll}");
            }

            ConfigureEverything(fs, pool);
            Unit.Write(write, "net_utest1\n");
            fs.RunUpkeep();
            var first = driver.Latest("net_utest1");
            AssertReplayed(fs, first);

            first.RaiseRemoval("unplugged");
            Unit.WaitUntil(() => first.State == EthDevState.Closed, "sub-device 1 to be torn down");
            Unit.Barrier(rt);
            fs.RunUpkeep(); // the line was used: it waits for a new one
            Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
            Assert.Null(fs.GetSubDevicePort(1));

            Unit.Write(write, "net_utest1\n");
            fs.RunUpkeep();
            var second = driver.Latest("net_utest1");
            Assert.NotSame(first, second);
            AssertReplayed(fs, second);
        }
    }

    [Fact]
    public void The_port_configuration_is_passed_on_as_each_sub_device_can_take_it()
    {
        using var pool = Unit.Pool("conf");
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out var driver);
        string file = dir.File("devargs");
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),dev(net_utest1),exec({Unit.Cat},{file}),{Unit.NoPoll}");
        Unit.Start(fs, pool, conf: new EthConf { LinkStatusEvents = true, Mtu = 3000 });
        var null0 = fs.GetSubDevicePort(0)!;
        var unit1 = fs.GetSubDevicePort(1)!;
        Assert.False(null0.Configuration!.LinkStatusEvents); // net_null cannot raise them
        Assert.True(unit1.Configuration!.LinkStatusEvents);
        Assert.False(null0.Configuration.RemovalEvents);
        Assert.True(unit1.Configuration.RemovalEvents); // asked for wherever the sub-device can raise them
        Assert.Equal(3000, null0.Mtu);
        Assert.Equal(3000, unit1.Mtu);
        Assert.Equal(3000, fs.Mtu);

        File.WriteAllText(file, "net_utest2\n");
        fs.RunUpkeep();
        var late = driver.Latest("net_utest2");
        Assert.Equal(EthDevState.Started, late.State);
        Assert.Equal(3000, late.Mtu);
        Assert.True(late.Configuration!.LinkStatusEvents);
    }

    [Fact]
    public void Operations_a_sub_device_does_not_support_are_skipped_never_fatal()
    {
        using var pool = Unit.Pool("unsupported");
        using var rt = Unit.Runtime(out var driver);
        var knobs = driver.Knobs("net_utest1");
        foreach (var op in new[] { "mtu", "mac", "macadd", "promiscuous", "allmulticast", "multicast", "linkdown" })
        {
            knobs.Unsupported[op] = true;
        }

        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll);
        ConfigureEverything(fs, pool); // applied live: sub-device 1 skips what it cannot do
        fs.SetLinkDown();
        AssertReplayed(fs, driver.Latest("net_utest0"));
        var sub1 = driver.Latest("net_utest1");
        Assert.Equal(EthDevState.Started, sub1.State);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        Assert.False(sub1.Promiscuous);
        Assert.Equal(1500, sub1.Mtu);
        Assert.Empty(sub1.MulticastAddresses);
        Assert.Equal(0, fs.Removals);
        Assert.Equal(0, Unit.XStat(fs, "fs_operation_failures"));
        Assert.Equal(Groups, fs.MulticastAddresses);

        // Replayed on a new attachment: skipped again, and the sub-device starts.
        sub1.RaiseRemoval("flap");
        Unit.WaitUntil(() => fs.GetSubDevicePort(1) is { } p && !ReferenceEquals(p, sub1) && fs.GetSubDeviceState(1) == SubDeviceState.Started, "sub-device 1 to come back");
        var again = driver.Latest("net_utest1");
        Assert.Equal(EthDevState.Started, again.State);
        Assert.Equal(2, again.RxQueueCount);
        Assert.False(again.Promiscuous);
        Assert.Equal(1, fs.Removals);
        Assert.Equal(0, Unit.XStat(fs, "fs_operation_failures"));
    }

    [Fact]
    public void A_ring_sub_device_without_multicast_support_is_kept_live_and_when_it_arrives_later()
    {
        using var pool = Unit.Pool("ring_mc");
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out _);
        string file = dir.File("devargs");
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_ring0),exec({Unit.Cat},{file}),{Unit.NoPoll}");
        Unit.Start(fs, pool);
        fs.SetMulticastList(Groups); // net_ring cannot filter multicast
        fs.EnablePromiscuous();
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(0, fs.Removals);

        File.WriteAllText(file, "net_ring1\n");
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        Assert.True(fs.GetSubDevicePort(1)!.Promiscuous);
        Assert.Empty(fs.GetSubDevicePort(1)!.MulticastAddresses);
        Assert.Equal(0, fs.Removals);
        Assert.Equal(0, Unit.XStat(fs, "fs_operation_failures"));
        var packets = Unit.Alloc(pool, 4, 3);
        Assert.Equal(4, fs.TxBurst(0, packets)); // net_ring0 loops back to itself
        var burst = new Mbuf[8];
        Assert.Equal(4, fs.RxBurst(0, burst));
        Mbuf.FreeBulk(burst.AsSpan(0, 4));
        Assert.True(pool.Audit().IsFull);
    }
}
