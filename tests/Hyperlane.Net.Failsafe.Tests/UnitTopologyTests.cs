using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Ownership and port ids of sub-devices, three sub-devices, nested failsafe ports, and the merged device info.</summary>
public class UnitTopologyTests
{
    [Fact]
    public void Sub_devices_are_owned_by_the_failsafe_port_and_refuse_control_from_outside()
    {
        using var pool = Unit.Pool("owned");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        var subs = new[] { fs.GetSubDevicePort(0)!, fs.GetSubDevicePort(1)! };
        Assert.Equal("net_failsafe0", fs.SubDeviceOwner.Name);
        Assert.All(subs, s => Assert.Same(fs.SubDeviceOwner, s.Owner));
        Assert.Null(fs.Owner);
        Assert.Equal(subs, rt.Ports.OwnedBy(fs.SubDeviceOwner));
        Assert.Equal([fs], rt.Ports.Ports);
        Assert.Equal([fs, .. subs], rt.Ports.All);
        Assert.Equal(0, fs.PortId);
        Assert.Equal(1, subs[0].PortId);
        Assert.Equal(2, subs[1].PortId);

        var sub = subs[0];
        var operations = new (string Name, Action Op)[]
        {
            ("configure", () => sub.Configure(1, 1)),
            ("start", sub.Start),
            ("stop", sub.Stop),
            ("MTU set", () => sub.SetMtu(1400)),
            ("promiscuous enable", sub.EnablePromiscuous),
            ("MAC address set", () => sub.SetMacAddress(MacAddress.Parse("02:00:00:00:00:99"))),
            ("reset", sub.Reset),
            ("close", sub.Close),
        };
        foreach (var (name, op) in operations)
        {
            var ex = Assert.Throws<EthDevException>(op);
            Assert.Equal(Errno.EPERM, ex.Error);
            Assert.Contains("owned by net_failsafe0", ex.Message, StringComparison.Ordinal);
            Assert.Equal(name, ex.Operation);
        }

        Assert.Equal(EthDevState.Unconfigured, sub.State); // none of them did anything

        // Through the failsafe port they are driven as it is; reading them is allowed.
        Unit.Start(fs, pool);
        Assert.All(subs, s => Assert.Equal(EthDevState.Started, s.State));
        Assert.Equal(0, sub.GetStats().TxPackets);
        Assert.True(sub.GetLink().IsUp);
    }

    [Fact]
    public void Port_ids_go_failsafe_first_then_its_sub_devices_for_each_failsafe_port()
    {
        using var rt = Unit.Runtime(out _);
        var a = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)");
        var b = Unit.Probe(rt, "net_failsafe1,dev(net_null2)");
        Assert.Equal([0, 1, 2], new[] { a.PortId, a.GetSubDevicePort(0)!.PortId, a.GetSubDevicePort(1)!.PortId });
        Assert.Equal([3, 4], new[] { b.PortId, b.GetSubDevicePort(0)!.PortId });
        Assert.Equal([a, b], rt.Ports.Ports);
    }

    [Fact]
    public void An_existing_application_port_is_adopted_and_its_earlier_traffic_not_counted()
    {
        using var pool = Unit.Pool("adopt");
        using var rt = Unit.Runtime(out _);
        var null0 = rt.Vdev.Probe("net_null0").Ports[0];
        Unit.Start(null0, pool);
        var burst = new Mbuf[10];
        Assert.Equal(10, null0.RxBurst(0, burst));
        Mbuf.FreeBulk(burst);

        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        Assert.Same(null0, fs.GetSubDevicePort(0));
        Assert.Same(fs.SubDeviceOwner, null0.Owner);
        Assert.Equal([fs], rt.Ports.Ports);
        Assert.Equal(1, fs.PortId); // the adopted port kept its id 0
        Assert.Equal(0, fs.GetStats().RxPackets);

        Unit.Start(fs, pool);
        Assert.Equal(10, fs.RxBurst(0, burst));
        Mbuf.FreeBulk(burst);
        Assert.Equal(10, fs.GetStats().RxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_sub_device_owned_by_another_failsafe_port_is_not_taken()
    {
        using var pool = Unit.Pool("taken");
        using var rt = Unit.Runtime(out _);
        var first = Unit.Probe(rt, "net_failsafe0,dev(net_null0)," + Unit.NoPoll);
        var second = Unit.Probe(rt, "net_failsafe1,dev(net_null0),dev(net_null1)," + Unit.NoPoll);

        Assert.Null(second.GetSubDevicePort(0));
        Assert.Contains("owned by net_failsafe0", second.GetSubDeviceError(0)!, StringComparison.Ordinal);
        Assert.Equal(1, second.ProbeFailures);
        var null0 = first.GetSubDevicePort(0)!;
        Assert.Same(first.SubDeviceOwner, null0.Owner);
        Unit.Start(first, pool);
        Unit.Start(second, pool);
        Assert.Equal(1, second.TxSubDeviceIndex);
        Assert.Equal(0, first.TxSubDeviceIndex);
        Assert.Equal(EthDevState.Started, null0.State);
    }

    [Fact]
    public void A_sub_device_closed_outside_the_failsafe_port_is_noticed_and_probed_again()
    {
        using var pool = Unit.Pool("bus_removed");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        Unit.Start(fs, pool);
        var old = fs.GetSubDevicePort(0)!;

        Assert.True(rt.Vdev.Remove("net_null0")); // hot-unplug on the bus
        Assert.Equal(EthDevState.Closed, old.State);
        fs.RunUpkeep(); // noticed, torn down and, as it can be probed again, probed again
        Unit.Barrier(rt);
        fs.RunUpkeep();
        var again = fs.GetSubDevicePort(0);
        Assert.NotNull(again);
        Assert.NotSame(old, again);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.True(fs.Removals >= 1);
    }

    [Fact]
    public void With_three_sub_devices_tx_falls_back_in_order_and_returns_to_the_first()
    {
        using var pool = Unit.Pool("three");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_utest1),dev(net_utest2)," + Unit.NoPoll);
        Assert.Equal(3, fs.SubDeviceCount);
        Unit.Start(fs, pool);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal([0, 1, 2, 3], rt.Ports.All.Select(p => (int)p.PortId));

        driver.ProbeFailure = new InvalidOperationException("unplugged");
        var sub0 = driver.Latest("net_utest0");
        var sub1 = driver.Latest("net_utest1");
        sub0.RaiseRemoval("unplugged");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        sub1.RaiseRemoval("unplugged");
        Assert.Equal(2, fs.TxSubDeviceIndex);
        Unit.WaitUntil(() => sub0.State == EthDevState.Closed && sub1.State == EthDevState.Closed, "sub-devices 0 and 1 to be torn down");
        Unit.Barrier(rt);

        var packets = Unit.Alloc(pool, 6, 1);
        Assert.Equal(6, fs.TxBurst(0, packets));
        Assert.Equal(6, driver.Latest("net_utest2").GetStats().TxPackets);

        // sub-device 1 returns first: Tx goes there (it is preferred to 2), then to 0.
        driver.ProbeFailure = null;
        driver.Knobs("net_utest0").Fail["configure"] = true;
        fs.RunUpkeep();
        Assert.Equal(1, fs.TxSubDeviceIndex);
        driver.Knobs("net_utest0").Fail.Clear();
        Unit.Barrier(rt);
        fs.RunUpkeep();
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(i)));
        Assert.Equal(6, fs.GetStats().TxPackets);
    }

    [Fact]
    public void A_failsafe_port_nests_inside_another()
    {
        using var pool = Unit.Pool("nested", 2048);
        using var rt = Unit.Runtime(out _);
        var outer = Unit.Probe(rt, "net_failsafe0,dev(net_failsafe1,dev(net_null0),dev(net_null1)),dev(net_null2)");
        var inner = Assert.IsType<FailsafeEthDev>(outer.GetSubDevicePort(0));
        Assert.Equal("net_failsafe1", inner.Name);
        Assert.Equal(2, inner.SubDeviceCount);
        Assert.Equal(["net_failsafe0", "net_failsafe1", "net_null0", "net_null1", "net_null2"], rt.Ports.All.Select(p => p.Name));
        Assert.Equal([0, 1, 2, 3, 4], rt.Ports.All.Select(p => (int)p.PortId));
        Assert.Equal([outer], rt.Ports.Ports);
        Assert.Same(outer.SubDeviceOwner, inner.Owner);
        Assert.Same(inner.SubDeviceOwner, inner.GetSubDevicePort(0)!.Owner);
        Assert.Same(inner.SubDeviceOwner, inner.GetSubDevicePort(1)!.Owner);
        Assert.Same(outer.SubDeviceOwner, outer.GetSubDevicePort(1)!.Owner);
        Assert.Equal(inner.GetSubDevicePort(0)!.MacAddress, outer.MacAddress); // the first sub-device's, through the inner port

        Unit.Start(outer, pool);
        Assert.Equal(EthDevState.Started, inner.State);
        Assert.Equal(SubDeviceState.Started, inner.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Started, inner.GetSubDeviceState(1));
        Assert.Equal(SubDeviceState.Started, outer.GetSubDeviceState(1));

        var burst = new Mbuf[32];
        Assert.Equal(32, outer.RxBurst(0, burst)); // 16 from the inner port (8 + 8), 16 from net_null2
        Assert.All(burst, m => Assert.Equal(outer.PortId, m.Port));
        Assert.Equal(16, inner.GetStats().RxPackets);
        Assert.Equal(8, inner.GetSubDevicePort(1)!.GetStats().RxPackets);
        Assert.Equal(16, outer.GetSubDevicePort(1)!.GetStats().RxPackets);
        Assert.Equal(32, outer.TxBurst(0, burst));
        Assert.Equal(32, inner.GetSubDevicePort(0)!.GetStats().TxPackets); // outer Tx -> inner -> its Tx sub-device
        Assert.Equal(32, outer.GetStats().TxPackets);
        Assert.Equal(32, outer.GetStats().RxPackets);
        Assert.True(pool.Audit().IsFull);

        var all = rt.Ports.All.ToList();
        rt.Dispose();
        Assert.All(all, p => Assert.Equal(EthDevState.Closed, p.State));
        Assert.Empty(rt.Vdev.Devices);
    }

    [Fact]
    public void A_removal_inside_a_nested_failsafe_port_stays_inside_it()
    {
        using var pool = Unit.Pool("nested_rm");
        using var rt = Unit.Runtime(out var driver);
        var outer = Unit.Probe(rt, "net_failsafe0,dev(net_failsafe1,dev(net_utest0),dev(net_utest1),hotplug_poll=600000),dev(net_utest2)," + Unit.NoPoll);
        var inner = Assert.IsType<FailsafeEthDev>(outer.GetSubDevicePort(0));
        Unit.Start(outer, pool);
        var sub0 = driver.Latest("net_utest0");

        driver.ProbeFailure = new InvalidOperationException("unplugged");
        sub0.RaiseRemoval("unplugged");
        Assert.Equal(1, inner.TxSubDeviceIndex);
        Assert.Equal(0, outer.TxSubDeviceIndex);
        Unit.WaitUntil(() => sub0.State == EthDevState.Closed, "the inner sub-device to be torn down");
        Unit.Barrier(rt);
        Assert.Equal(0, outer.Removals);
        Assert.Equal(1, inner.Removals);

        var packets = Unit.Alloc(pool, 3, 1);
        Assert.Equal(3, outer.TxBurst(0, packets));
        Assert.Equal(3, driver.Latest("net_utest1").GetStats().TxPackets);

        driver.ProbeFailure = null;
        inner.RunUpkeep();
        Assert.Equal(0, inner.TxSubDeviceIndex);
        Assert.Equal(3, outer.GetStats().TxPackets);
    }

    [Fact]
    public void Closing_the_runtime_tears_down_every_sub_device()
    {
        using var pool = Unit.Pool("dispose");
        var rt = Unit.Runtime(out var driver);
        UnitEthDev sub0, sub1;
        using (rt)
        {
            var fs = Unit.Probe(rt, "net_failsafe0,dev(net_utest0),dev(net_utest1)");
            Unit.Start(fs, pool);
            sub0 = driver.Latest("net_utest0");
            sub1 = driver.Latest("net_utest1");
        }

        Assert.Equal(EthDevState.Closed, sub0.State);
        Assert.Equal(EthDevState.Closed, sub1.State);
        Assert.Equal("close", sub0.Events.Last());
        Assert.Empty(rt.Ports.All);
        Assert.Empty(rt.Vdev.Devices);
    }

    // ---------------- device info ----------------

    [Fact]
    public void Device_info_is_the_conservative_merge_of_the_sub_devices()
    {
        var a = new EthDevInfo
        {
            DriverName = "a",
            MaxRxQueues = 8,
            MaxTxQueues = 4,
            MinRxDescriptors = 32,
            MaxRxDescriptors = 4096,
            MinTxDescriptors = 64,
            MaxTxDescriptors = 2048,
            MaxRxPacketLength = 9018,
            MinMtu = 68,
            MaxMtu = 9000,
            MaxMacAddresses = 16,
            MaxTxSegments = 8,
            RxOffloadCapabilities = RxOffloads.Checksum | RxOffloads.VlanStrip,
            TxOffloadCapabilities = TxOffloads.Checksum | TxOffloads.MultiSegments,
            RssHashCapabilities = RssHashFunctions.Ip | RssHashFunctions.Tcp,
            RssKeySize = 40,
            SpeedCapabilities = [LinkSpeed.Gbps10, LinkSpeed.Gbps25],
            SupportsRemovalEvents = true,
            DefaultRxBurst = 64,
            DefaultRxDescriptors = 1024,
            DefaultTxDescriptors = 8,
        };
        var b = new EthDevInfo
        {
            DriverName = "b",
            MaxRxQueues = 2,
            MaxTxQueues = 16,
            MinRxDescriptors = 64,
            MaxRxDescriptors = 1024,
            MinTxDescriptors = 1,
            MaxTxDescriptors = 4096,
            MaxRxPacketLength = 1518,
            MinMtu = 576,
            MaxMtu = 1500,
            MaxMacAddresses = 1,
            MaxTxSegments = 40,
            RxOffloadCapabilities = RxOffloads.Checksum,
            TxOffloadCapabilities = TxOffloads.Checksum | TxOffloads.MbufFastFree,
            RssHashCapabilities = RssHashFunctions.Ip,
            RssKeySize = 52,
            SpeedCapabilities = [LinkSpeed.Gbps10],
        };

        var m = FailsafeEthDev.MergeInfo([a, b]);
        Assert.Equal(FailsafeDriver.DriverName, m.DriverName);
        Assert.Equal(2, m.MaxRxQueues);
        Assert.Equal(4, m.MaxTxQueues);
        Assert.Equal(64, m.MinRxDescriptors);
        Assert.Equal(1024, m.MaxRxDescriptors);
        Assert.Equal(64, m.MinTxDescriptors);
        Assert.Equal(2048, m.MaxTxDescriptors);
        Assert.Equal(1518, m.MaxRxPacketLength);
        Assert.Equal(576, m.MinMtu);
        Assert.Equal(1500, m.MaxMtu);
        Assert.Equal(1, m.MaxMacAddresses);
        Assert.Equal(8, m.MaxTxSegments);
        Assert.Equal(RxOffloads.Checksum, m.RxOffloadCapabilities);
        Assert.Equal(TxOffloads.Checksum, m.TxOffloadCapabilities);
        Assert.Equal(RssHashFunctions.Ip, m.RssHashCapabilities);
        Assert.Equal(40, m.RssKeySize);
        Assert.Equal([LinkSpeed.Gbps10], m.SpeedCapabilities);
        Assert.True(m.SupportsLinkStatusEvents);
        Assert.False(m.SupportsRemovalEvents);
        Assert.Equal(64, m.DefaultRxBurst);
        Assert.Equal(1024, m.DefaultRxDescriptors); // clamped into the merged range
        Assert.Equal(64, m.DefaultTxDescriptors);

        // Order does not change the limits or capabilities.
        var r = FailsafeEthDev.MergeInfo([b, a]);
        Assert.Equal(m with { DefaultRxBurst = r.DefaultRxBurst, DefaultRxDescriptors = r.DefaultRxDescriptors, DefaultTxDescriptors = r.DefaultTxDescriptors, SpeedCapabilities = r.SpeedCapabilities }, r);
        Assert.Equal(m.SpeedCapabilities, r.SpeedCapabilities);

        // A single sub-device: its own limits.
        var one = FailsafeEthDev.MergeInfo([a]);
        Assert.Equal(8, one.MaxRxQueues);
        Assert.Equal(a.RxOffloadCapabilities, one.RxOffloadCapabilities);
        Assert.Equal(a.SpeedCapabilities, one.SpeedCapabilities);

        // Disjoint descriptor ranges never give min > max.
        var c = FailsafeEthDev.MergeInfo([a with { MinRxDescriptors = 2048, MaxRxDescriptors = 4096 }, b]);
        Assert.True(c.MinRxDescriptors <= c.MaxRxDescriptors);
    }

    [Fact]
    public void Device_info_without_sub_devices_lets_the_port_be_configured()
    {
        var m = FailsafeEthDev.MergeInfo([]);
        Assert.Equal(FailsafeDriver.DriverName, m.DriverName);
        Assert.True(m.MaxRxQueues >= 1 && m.MaxTxQueues >= 1);
        Assert.True(m.SupportsLinkStatusEvents);
    }

    [Fact]
    public void The_port_reports_the_merge_of_its_present_sub_devices()
    {
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_utest1)," + Unit.NoPoll);
        var info = fs.Info;
        var expected = FailsafeEthDev.MergeInfo([fs.GetSubDevicePort(0)!.Info, fs.GetSubDevicePort(1)!.Info]);
        Assert.Equal(expected.MaxRxQueues, info.MaxRxQueues);
        Assert.Equal(4, info.MaxRxQueues); // net_utest's 4, not net_null's 1024
        Assert.Equal(9000, info.MaxMtu);
        Assert.Equal(TxOffloads.None, info.TxOffloadCapabilities); // null: multi-seg + fast free; utest: checksum
        Assert.Equal(RxOffloads.None, info.RxOffloadCapabilities);
        Assert.Empty(info.SpeedCapabilities); // 10G only and 25G only

        var ex = Assert.Throws<EthDevException>(() => fs.Configure(5, 1)); // more queues than a sub-device has
        Assert.Contains("0..4", ex.Message, StringComparison.Ordinal);
    }

    // ---------------- stats arithmetic ----------------

    [Fact]
    public void Stats_add_and_subtract_field_by_field_and_queue_by_queue()
    {
        var a = new EthStats
        {
            RxPackets = 10, TxPackets = 20, RxBytes = 100, TxBytes = 200, RxMissed = 1, RxErrors = 2, TxErrors = 3, RxNoMbuf = 4,
            RxQueues = [new(5, 50, 0, 0, 0), new(5, 50, 1, 2, 3)],
            TxQueues = [new(20, 200, 0, 0, 0)],
        };
        var b = new EthStats
        {
            RxPackets = 1, TxPackets = 2, RxBytes = 3, TxBytes = 4, RxMissed = 5, RxErrors = 6, TxErrors = 7, RxNoMbuf = 8,
            RxQueues = [new(1, 3, 0, 0, 0)],
            TxQueues = [new(1, 2, 0, 0, 0), new(1, 2, 0, 0, 0)],
        };

        var sum = StatsMath.Add(a, b);
        Assert.Equal(11, sum.RxPackets);
        Assert.Equal(22, sum.TxPackets);
        Assert.Equal(103, sum.RxBytes);
        Assert.Equal(204, sum.TxBytes);
        Assert.Equal(6, sum.RxMissed);
        Assert.Equal(8, sum.RxErrors);
        Assert.Equal(10, sum.TxErrors);
        Assert.Equal(12, sum.RxNoMbuf);
        Assert.Equal([new(6, 53, 0, 0, 0), new(5, 50, 1, 2, 3)], sum.RxQueues);
        Assert.Equal([new(21, 202, 0, 0, 0), new(1, 2, 0, 0, 0)], sum.TxQueues);

        var back = StatsMath.Subtract(sum, b);
        Assert.Equal(a.RxPackets, back.RxPackets);
        Assert.Equal(a.TxBytes, back.TxBytes);
        Assert.Equal(a.RxNoMbuf, back.RxNoMbuf);
        Assert.Equal(a.RxQueues, back.RxQueues);
        Assert.Equal([new(20, 200, 0, 0, 0), default], back.TxQueues);

        var zero = StatsMath.Subtract(a, a);
        Assert.Equal(0, zero.RxPackets + zero.TxPackets + zero.RxBytes + zero.TxBytes + zero.RxMissed + zero.RxErrors + zero.TxErrors + zero.RxNoMbuf);
        Assert.All(zero.RxQueues, q => Assert.Equal(default, q));
        Assert.Equal(a.RxQueues, StatsMath.Add(new EthStats(), a).RxQueues);
    }
}
