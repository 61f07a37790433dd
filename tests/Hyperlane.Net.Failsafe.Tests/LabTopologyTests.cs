using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Tap;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// More than two paths: three sub-devices (af_packet, tap, tap), and a failsafe port nested in another. Tx
/// goes to the preferred path that is there and moves to the next when it goes.
/// </summary>
[Collection(LabFailsafe.Collection)]
public sealed class LabTopologyTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Three_sub_devices_tx_follows_the_order_they_are_listed_in()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var (a, b, macA, macB) = lab.AddVeth();
        string t1 = LabFailsafe.TapName(), t2 = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,dev(net_af_packet0,iface={a}),dev(net_tap0,iface={t1}),dev(net_tap1,iface={t2}),hotplug_poll=100");
        Assert.Equal(3, fs.SubDeviceCount);
        lab.Start(fs);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(i));
        }

        var bSink = lab.Sink(b);
        var t1Sink = lab.Sink(t1);
        var t2Sink = lab.Sink(t2);
        lab.Traffic(fs);

        // The preferred path: the veth.
        LabFailsafe.WaitUntil(() => bSink.Count > 50, () => $"frames on {b}: {bSink.Count}; {LabFailsafe.Describe(fs)}");
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal(0, t1Sink.Count);
        Assert.Equal(0, t2Sink.Count);

        // The veth goes: the first tap, and only it.
        lab.Ns.DeleteLink(a);
        LabFailsafe.WaitUntil(() => t1Sink.Count > 50, () => $"frames on {t1}: {t1Sink.Count}; {LabFailsafe.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.Equal(0, t2Sink.Count);

        // The first tap's netdev goes too: its dev() sub-device is torn down and probed again at once, which
        // makes the tap anew, and Tx goes back to it (the second tap may carry it for a moment in between).
        var oldT1 = fs.GetSubDevicePort(1);
        long removals = fs.Removals;
        lab.Ns.DeleteLink(t1);
        LabFailsafe.WaitUntil(
            () => fs.Removals > removals && fs.GetSubDevicePort(1) is { } p && !ReferenceEquals(p, oldT1)
                && fs.GetSubDeviceState(1) == SubDeviceState.Started && lab.Ns.LinkExists(t1),
            () => $"the first tap did not come back; {LabFailsafe.Describe(fs)}");
        var newT1 = lab.Sink(t1);
        LabFailsafe.WaitUntil(() => fs.TxSubDeviceIndex == 1 && newT1.Count > 10, () => $"frames on the new {t1}: {newT1.Count}; {LabFailsafe.Describe(fs)}");
        output.WriteLine($"the second tap carried {t2Sink.Count} frames while the first was re-made");

        // The veth comes back: Tx returns to it.
        lab.CreateVeth(a, b, macA, macB);
        var newB = lab.Sink(b);
        LabFailsafe.WaitUntil(() => fs.TxSubDeviceIndex == 0 && newB.Count > 10, () => $"frames on the new {b}: {newB.Count}; {LabFailsafe.Describe(fs)}");
        Assert.IsType<AfPacketEthDev>(fs.GetSubDevicePort(0));
    }

    [SkippableFact]
    public void A_nested_failsafe_fails_over_inside_while_the_outer_port_stays_on_it()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var (a, b, macA, macB) = lab.AddVeth();
        string t1 = LabFailsafe.TapName(), t2 = LabFailsafe.TapName();
        var outer = lab.Probe($"net_failsafe0,dev(net_failsafe1,dev(net_af_packet0,iface={a}),dev(net_tap0,iface={t1}),hotplug_poll=100),dev(net_tap1,iface={t2}),hotplug_poll=100");
        var inner = Assert.IsType<FailsafeEthDev>(outer.GetSubDevicePort(0));
        Assert.Equal("net_failsafe1", inner.Name);
        Assert.Same(outer.SubDeviceOwner, inner.Owner);
        Assert.Equal(2, inner.SubDeviceCount);
        Assert.Same(inner.SubDeviceOwner, inner.GetSubDevicePort(0)!.Owner);
        Assert.Equal([outer], lab.Runtime.Ports.Ports); // the rest is owned, hidden
        lab.Start(outer);
        Assert.Equal(SubDeviceState.Started, outer.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Started, outer.GetSubDeviceState(1));
        Assert.Equal(SubDeviceState.Started, inner.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Started, inner.GetSubDeviceState(1));

        var bSink = lab.Sink(b);
        var t1Sink = lab.Sink(t1);
        var t2Sink = lab.Sink(t2);
        var traffic = lab.Traffic(outer);
        LabFailsafe.WaitUntil(() => bSink.Count > 50, () => $"frames on {b}: {bSink.Count}; outer {LabFailsafe.Describe(outer)}; inner {LabFailsafe.Describe(inner)}");
        Assert.Equal(0, outer.TxSubDeviceIndex);
        Assert.Equal(0, inner.TxSubDeviceIndex);
        Assert.Equal(0, t1Sink.Count);
        Assert.Equal(0, t2Sink.Count);

        // The veth goes: the inner port moves to its tap; the outer one stays on the inner port.
        lab.Ns.DeleteLink(a);
        LabFailsafe.WaitUntil(() => t1Sink.Count > 50, () => $"frames on {t1}: {t1Sink.Count}; outer {LabFailsafe.Describe(outer)}; inner {LabFailsafe.Describe(inner)}");
        Assert.Equal(1, inner.TxSubDeviceIndex);
        Assert.Equal(0, outer.TxSubDeviceIndex);
        Assert.Same(inner, outer.GetSubDevicePort(0));
        Assert.Equal(0, t2Sink.Count);
        Assert.Equal(0, outer.Removals);
        Assert.Equal(1, inner.Removals);

        // It comes back: so does the inner port's Tx.
        lab.CreateVeth(a, b, macA, macB);
        var newB = lab.Sink(b);
        LabFailsafe.WaitUntil(() => inner.TxSubDeviceIndex == 0 && newB.Count > 10, () => $"frames on the new {b}: {newB.Count}; inner {LabFailsafe.Describe(inner)}");
        Assert.Equal(0, outer.TxSubDeviceIndex);
        Assert.IsType<AfPacketEthDev>(inner.GetSubDevicePort(0));
        Assert.IsType<TapEthDev>(outer.GetSubDevicePort(1));

        // Stats add up through both levels: everything went through the inner port, across its removal.
        traffic.Stop();
        Assert.Equal(traffic.Taken, inner.GetStats().TxPackets);
        Assert.Equal(traffic.Taken, outer.GetStats().TxPackets);
        lab.DisposeRuntime();
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }
}
