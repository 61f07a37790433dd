using Hyperlane.Core.Devices;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

/// <summary>remote=: veth a stands for the NetVSC netdev, its peer b for the wire.</summary>
public sealed class TapRemoteTests
{
    private const string MacA = "02:00:00:bb:00:01";
    private const string MacB = "02:00:00:bb:00:02";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [SkippableFact]
    public void Unicast_is_stolen_broadcast_is_shared_and_tx_leaves_through_the_remote()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, b) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        lab.Ns.Ip("addr", "add", "10.9.0.1/24", "dev", a);
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tr")},remote={a}");
        Assert.Equal(MacA, port.MacAddress.ToString().ToLowerInvariant());
        using var kpA = KernelPort.Open(lab.Ns, a);
        using var kpB = KernelPort.Open(lab.Ns, b);

        // Unicast ICMP echo to a's MAC and IP: the application gets it, a's stack does not (no reply, no ARP on b).
        var echo = new byte[98];
        PacketBuilder.IcmpEchoRequest4(echo, MacAddress.Parse(MacB), MacAddress.Parse(MacA), PacketBuilder.Ip(10, 9, 0, 2), PacketBuilder.Ip(10, 9, 0, 1), 1, 1, 98);
        kpB.Drain();
        kpB.Send(echo);
        var got = TapLab.Receive(port, 1, Wait);
        Assert.Single(got);
        Assert.Equal(echo, TapLab.Bytes(got[0]));
        got[0].Free();
        Assert.Equal(0, kpB.CountReceived(Quiet));

        // Broadcast ARP request for a's IP: the application gets a copy and a's stack answers.
        var arp = new byte[42];
        PacketBuilder.ArpRequest(arp, MacAddress.Parse(MacB), PacketBuilder.Ip(10, 9, 0, 2), PacketBuilder.Ip(10, 9, 0, 1));
        kpA.Drain();
        kpB.Send(arp);
        got = TapLab.Receive(port, 1, Wait);
        Assert.Single(got);
        Assert.Equal(arp, TapLab.Bytes(got[0]));
        got[0].Free();
        Assert.NotNull(kpA.Receive(Wait));
        var reply = kpB.Receive(Wait);
        Assert.NotNull(reply);
        Assert.Equal(0x0806, (reply![12] << 8) | reply[13]);

        // Application Tx leaves through a: b sees it.
        kpB.Drain();
        byte[] frame = TapLab.Udp(MacA, MacB, 90);
        TapLab.Send(port, lab.Packet(frame));
        Assert.Equal(frame, kpB.Receive(Wait));

        // Other unicast reaches the application only while promiscuous.
        byte[] other = TapLab.Udp(MacB, "02:00:00:bb:00:77", 70);
        kpB.Send(other);
        Assert.Equal(0, TapLab.CountReceived(port, Quiet));
        port.EnablePromiscuous();
        Assert.True(lab.Link(a).GetProperty("promiscuity").GetInt32() > 0);
        kpB.Send(other);
        Assert.Equal(1, TapLab.CountReceived(port, Quiet, f => f.AsSpan().SequenceEqual(other)));
        port.DisablePromiscuous();
        kpB.Send(other);
        Assert.Equal(0, TapLab.CountReceived(port, Quiet));
    }

    [SkippableFact]
    public void Closing_the_port_restores_the_remote_exactly()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, _) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        lab.Ns.SetDown(a);
        string before = lab.Ns.Ip("-j", "-d", "link", "show", "dev", a);
        int index = lab.Ns.IfIndex(a);
        var qdiscsBefore = Qdiscs(lab, index);

        string tap = NetNamespace.UniqueIfName("tc");
        var port = lab.Start($"net_tap0,iface={tap},remote={a}");
        Assert.Contains("UP", lab.Link(a).GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("ingress", Qdiscs(lab, index));
        port.EnablePromiscuous();
        port.EnableAllMulticast();
        port.SetMtu(1400);
        port.SetMacAddress(MacAddress.Parse("02:00:00:bb:00:55"));
        Assert.Equal(1400, lab.Link(a).GetProperty("mtu").GetInt32());
        Assert.Equal("02:00:00:bb:00:55", lab.Link(a).GetProperty("address").GetString());

        port.Close();
        Assert.False(lab.Ns.LinkExists(tap));
        Assert.Equal(qdiscsBefore, Qdiscs(lab, index));
        Assert.Equal(before, lab.Ns.Ip("-j", "-d", "link", "show", "dev", a));
    }

    [SkippableFact]
    public void An_ingress_qdisc_that_was_there_stays_and_only_our_filters_go()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, b) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        int ia = lab.Ns.IfIndex(a), ib = lab.Ns.IfIndex(b);
        lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            nl.AddQdisc(ia, QdiscKind.Ingress);
            nl.AddU32MirredFilter(ia, 0xFFFF0000, 7, 0, U32Match.DestinationMac([2, 0, 0, 0xbb, 0, 0x66]), MirredAction.EgressMirror, ib);
        });
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tk")},remote={a}");
        port.Close();
        lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            Assert.Contains(nl.DumpQdiscs(ia), q => q.Kind == "ingress");
            var prios = nl.DumpFilters(ia, 0xFFFF0000).Select(f => f.Priority).Distinct().ToList();
            Assert.Equal([7], prios);
        });
    }

    [SkippableFact]
    public void Deleting_the_remote_raises_removal()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, _) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tx")},remote={a}");
        using var removed = new ManualResetEventSlim();
        port.EventRaised += (_, e) =>
        {
            if (e.Type == Core.Ports.EthDevEventType.Removal)
            {
                removed.Set();
            }
        };
        lab.Ns.DeleteLink(a);
        Assert.True(removed.Wait(Wait));
        Assert.True(port.IsRemoved);
        Assert.Equal(0, port.RxBurst(0, new Mbuf[4]));
        port.Close(); // nothing to restore, no throw
    }

    [SkippableFact]
    public void Bad_input_gives_one_clear_error_and_leaves_nothing_behind()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, _) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        int ia = lab.Ns.IfIndex(a);
        string linksBefore = Names(lab);
        string t = NetNamespace.UniqueIfName("tb");

        var e1 = Assert.Throws<DeviceException>(() => lab.Probe($"net_tap0,iface={t},remote=nosuchdev0"));
        Assert.Contains("remote netdev 'nosuchdev0' does not exist", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<DevargsException>(() => lab.Probe($"net_tap0,iface={t},mac=02:00:00:zz:00:01"));
        Assert.Contains("mac", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<DevargsException>(() => lab.Probe("net_tap0,iface=abcdefghijklmnop"));
        Assert.Contains("longer than 15", e3.Message, StringComparison.Ordinal);
        var e4 = Assert.Throws<DevargsException>(() => lab.Probe($"net_tun0,iface={t},mac=02:00:00:bb:00:09"));
        Assert.Contains("no MAC", e4.Message, StringComparison.Ordinal);
        var e5 = Assert.Throws<DevargsException>(() => lab.Probe($"net_tun0,iface={t},remote={a}"));
        Assert.Contains("remote", e5.Message, StringComparison.Ordinal);
        var e6 = Assert.Throws<DevargsException>(() => lab.Probe($"net_tap0,iface={t},mac=01:00:00:bb:00:09"));
        Assert.Contains("unicast", e6.Message, StringComparison.Ordinal);

        Assert.False(lab.Ns.LinkExists(t));
        Assert.Equal(linksBefore, Names(lab));
        Assert.DoesNotContain("ingress", Qdiscs(lab, ia));
        Assert.Empty(lab.Runtime.Ports.All);
    }

    [SkippableFact]
    public void Net_tun_carries_ip_packets()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string t = NetNamespace.UniqueIfName("tn");
        var port = lab.Start($"net_tun0,iface={t}");
        Assert.True(port.IsTun);
        lab.Ns.Ip("addr", "add", "10.7.0.1/24", "dev", t);
        // An ICMP echo to the tun's address from 10.7.0.2: the kernel answers through the tun.
        var frame = new byte[14 + 84];
        PacketBuilder.IcmpEchoRequest4(frame, MacAddress.Parse(MacA), MacAddress.Parse(MacB), PacketBuilder.Ip(10, 7, 0, 2), PacketBuilder.Ip(10, 7, 0, 1), 9, 1, frame.Length);
        TapLab.Send(port, lab.Packet(frame.AsSpan(14)));
        var got = TapLab.Receive(port, 1, Wait);
        Assert.Single(got);
        byte[] reply = TapLab.Bytes(got[0]);
        got[0].Free();
        Assert.Equal(0x45, reply[0]);
        Assert.Equal(0, reply[20]); // ICMP echo reply
    }

    private static List<string> Qdiscs(TapLab lab, int index) =>
        lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            return nl.DumpQdiscs(index).Select(q => q.Kind).Order(StringComparer.Ordinal).ToList();
        });

    private static string Names(TapLab lab) =>
        string.Join(",", lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            return nl.DumpLinks().Select(l => l.Name).Order(StringComparer.Ordinal).ToList();
        }));
}
