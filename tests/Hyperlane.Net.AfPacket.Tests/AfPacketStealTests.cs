using System.Diagnostics;
using System.Text.Json;
using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.AfPacket.Tests;

/// <summary>
/// steal=1 against a real veth pair: the port's sockets (packet taps) get every frame, the kernel stack of the
/// interface gets none (it answers neither ARP nor ping), Tx is untouched, and close leaves the interface's
/// qdiscs and filters exactly as they were. The kernel's own processing is observed through its answers:
/// an AF_PACKET socket on A would be a tap and still see the frames.
/// </summary>
[Collection(AfPacketTests.Collection)]
public sealed class AfPacketStealTests
{
    private const string CidrA = "198.18.0.1/24";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    public void Steal_gives_every_frame_to_the_port_and_none_to_the_kernel_stack(int queues)
    {
        RequireLab();
        using var lab = AfPacketLab.Create(queues == 1 ? ",steal=1" : ",steal=1,qpairs=2", queues: queues);
        var port = Assert.IsType<AfPacketEthDev>(lab.Port);
        Assert.True(port.IsStealing);
        lab.Ns.AddAddress(lab.A, CidrA);

        string filters = Tc(lab.Ns, "filter", "show", "dev", lab.A, "ingress");
        Assert.Contains("pref 175 ", filters, StringComparison.Ordinal);
        Assert.Contains(port.Steal!.Kind == "u32" ? "800::af" : "handle 0xaf", filters, StringComparison.Ordinal);

        const int Pings = 5, Udp = 10;
        int sent = SendArpPingsAndUdp(lab.Peer, Pings, Udp);

        // The port's sockets see every frame: they are packet taps, fed before tc ingress.
        var (arp, icmp, udp) = ReceiveByType(lab, queues, sent);
        Assert.Equal((1, Pings, Udp), (arp, icmp, udp));
        Assert.Equal(sent, lab.Port.GetStats().RxPackets);

        // The kernel's stack does not: no ARP reply, no echo reply.
        Assert.Equal(0, lab.Peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));
        long drops = IngressDrops(lab.Ns, lab.A);
        Assert.True(drops >= sent, $"the ingress qdisc dropped {drops} frames, {sent} sent");

        // Tx goes out of the egress side, which steal does not touch.
        lab.TransmitAll(0, [LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(80, 4321))]);
        Assert.Equal(1, lab.Peer.CountReceived(TimeSpan.FromMilliseconds(300), f => AfPacketLab.IsOurs(f, AfPacketLab.MacB) && AfPacketLab.SourcePort(f) == 4321));
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    [SkippableFact]
    public void Without_steal_the_kernel_answers_the_same_frames()
    {
        RequireLab();
        using var lab = AfPacketLab.Create();
        Assert.False(Assert.IsType<AfPacketEthDev>(lab.Port).IsStealing);
        Assert.DoesNotContain("ingress", Tc(lab.Ns, "qdisc", "show", "dev", lab.A), StringComparison.Ordinal);
        lab.Ns.AddAddress(lab.A, CidrA);

        const int Pings = 5;
        int sent = SendArpPingsAndUdp(lab.Peer, Pings, 0);
        Assert.Equal((1, Pings, 0), ReceiveByType(lab, 1, sent));
        Assert.Equal(1 + Pings, lab.Peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));
    }

    [SkippableFact]
    public void Close_removes_the_filter_and_the_qdisc_steal_added_and_the_kernel_answers_again()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        ns.AddAddress(a, CidrA);
        using var peer = KernelPort.Open(ns, b);
        var before = Snapshot(ns, a);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));

        var port = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a + ",steal=1").Ports[0]));
        Assert.True(port.Steal!.CreatedQdisc);
        Assert.Contains("\"kind\":\"ingress\"", Tc(ns, "-j", "qdisc", "show", "dev", a), StringComparison.Ordinal);
        Assert.Contains("\"pref\":175", Tc(ns, "-j", "filter", "show", "dev", a, "ingress"), StringComparison.Ordinal);

        // From probe on, not only once started: the kernel already gets nothing.
        SendArpPingsAndUdp(peer, 2, 0);
        Assert.Equal(0, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));

        port.Close();
        Assert.False(port.IsStealing);
        Assert.Equal(before, Snapshot(ns, a));
        SendArpPingsAndUdp(peer, 2, 0);
        Assert.Equal(3, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));
    }

    [SkippableFact]
    public void Close_keeps_a_pre_existing_ingress_qdisc_and_its_filters()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        ns.AddAddress(a, CidrA);
        Tc(ns, "qdisc", "add", "dev", a, "ingress");

        // Someone else's filter before ours (prio 10) that matches none of the test's frames, and one after (prio 300).
        Tc(ns, "filter", "add", "dev", a, "ingress", "prio", "10", "protocol", "ip", "u32", "match", "ip", "dst", "203.0.113.9/32", "flowid", ":1");
        Tc(ns, "filter", "add", "dev", a, "ingress", "prio", "300", "protocol", "all", "u32", "match", "u32", "0", "0", "flowid", ":2");
        using var peer = KernelPort.Open(ns, b);
        var before = Snapshot(ns, a);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));

        var port = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a + ",steal=1").Ports[0]));
        Assert.False(port.Steal!.CreatedQdisc);
        string during = Tc(ns, "filter", "show", "dev", a, "ingress");
        Assert.Contains("pref 10 ", during, StringComparison.Ordinal);
        Assert.Contains("pref 175 ", during, StringComparison.Ordinal);
        Assert.Contains("pref 300 ", during, StringComparison.Ordinal);
        SendArpPingsAndUdp(peer, 2, 0);
        Assert.Equal(0, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));

        port.Close();
        Assert.Equal(before, Snapshot(ns, a));
        SendArpPingsAndUdp(peer, 2, 0);
        Assert.Equal(3, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));
    }

    [SkippableFact]
    public void Steal_under_a_pre_existing_clsact_qdisc_uses_its_ingress_side_and_leaves_it()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        ns.AddAddress(a, CidrA);
        Tc(ns, "qdisc", "add", "dev", a, "clsact");
        using var peer = KernelPort.Open(ns, b);
        var before = Snapshot(ns, a);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));

        var port = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a + ",steal=1").Ports[0]));
        Assert.False(port.Steal!.CreatedQdisc);
        SendArpPingsAndUdp(peer, 2, 0);
        Assert.Equal(0, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));

        port.Close();
        Assert.Equal(before, Snapshot(ns, a));
        Assert.Contains("clsact", before.Qdiscs, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Steal_twice_on_one_interface_is_refused_and_the_first_port_keeps_it()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        ns.AddAddress(a, CidrA);
        using var peer = KernelPort.Open(ns, b);
        var before = Snapshot(ns, a);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));
        var first = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a + ",steal=1").Ports[0]));
        var stolen = Snapshot(ns, a);

        DeviceException? ex = null;
        IReadOnlyList<string> leftOpen = OpenFds.LeftOpenBy(
            () => ex = Assert.Throws<DeviceException>(() => ns.Run(() => runtime.Vdev.Probe("net_af_packet1,iface=" + a + ",steal=1"))));
        Assert.NotNull(ex);
        Assert.Equal("net_af_packet1", ex.DeviceName);
        Assert.StartsWith($"net_af_packet1: steal=1: {a} is already stolen: its ingress priority 175 holds a ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'tc filter del dev {a} ingress pref 175'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Empty(leftOpen);
        Assert.Single(runtime.Ports.All);
        Assert.Equal(stolen, Snapshot(ns, a)); // the refused probe changed nothing
        Assert.True(first.IsStealing);

        // A second port without steal on the same interface is fine, and also a tap: it sees the frames too.
        var second = ns.Run(() => runtime.Vdev.Probe("net_af_packet2,iface=" + a).Ports[0]);
        Assert.False(Assert.IsType<AfPacketEthDev>(second).IsStealing);
        SendArpPingsAndUdp(peer, 1, 0);
        Assert.Equal(0, peer.CountReceived(Quiet, f => IsArpReplyFromA(f) || IsEchoReplyFromA(f)));

        second.Close();
        Assert.Equal(stolen, Snapshot(ns, a));
        first.Close();
        Assert.Equal(before, Snapshot(ns, a));
    }

    [SkippableFact]
    public void A_filter_left_at_the_steal_priority_is_refused_and_left_alone()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        Tc(ns, "qdisc", "add", "dev", a, "ingress");
        Tc(ns, "filter", "add", "dev", a, "ingress", "prio", "175", "protocol", "all", "u32", "match", "u32", "0", "0", "flowid", ":1");
        var before = Snapshot(ns, a);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));

        var ex = Assert.Throws<DeviceException>(() => ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a + ",steal=1")));
        Assert.Equal($"net_af_packet0: steal=1: {a} is already stolen: its ingress priority 175 holds a u32 filter (another port with steal=1 on {a}, or one left by a process that did not close its port: 'tc filter del dev {a} ingress pref 175' removes it)", ex.Message);
        Assert.Empty(runtime.Ports.All);
        Assert.Equal(before, Snapshot(ns, a));
    }

    [SkippableFact]
    public void Close_after_the_interface_is_gone_does_not_fail()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a1, _) = ns.AddVethPair();
        var (a2, _) = ns.AddVethPair();
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));
        var p1 = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a1 + ",steal=1").Ports[0]));
        var p2 = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet1,iface=" + a2 + ",steal=1").Ports[0]));

        // Deleted, and the port saw the removal event.
        using var removed = new ManualResetEventSlim();
        p1.EventRaised += (_, e) =>
        {
            if (e.Type == EthDevEventType.Removal)
            {
                removed.Set();
            }
        };
        ns.DeleteLink(a1);
        Assert.True(removed.Wait(TimeSpan.FromSeconds(2)), "no Removal event");
        p1.Close();

        // Deleted, and closed at once: the kernel answers ENODEV (or nothing) to the clean-up.
        ns.DeleteLink(a2);
        p2.Close();
        Assert.False(p1.IsStealing);
        Assert.False(p2.IsStealing);
    }

    /// <summary>
    /// The u32 + gact path, which this machine's kernel cannot run (no act_gact): a u32 filter at the steal
    /// priority and handle with a mirred action stands in for it, since the removal concerns the u32 classifier
    /// (deleting a node leaves its hash table at the priority while other u32 filters share the block).
    /// </summary>
    [SkippableFact]
    public void Removing_a_u32_drop_filter_leaves_no_hash_table_and_spares_a_filter_added_at_its_priority()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        var (c, _) = ns.AddVethPair();
        Tc(ns, "qdisc", "add", "dev", a, "ingress");
        Tc(ns, "filter", "add", "dev", a, "ingress", "prio", "10", "protocol", "ip", "u32", "match", "ip", "dst", "203.0.113.9/32", "flowid", ":1");
        var before = Snapshot(ns, a);
        using var rt = ns.Run(() => new RtNetlink());
        int aIndex = ns.IfIndex(a), cIndex = ns.IfIndex(c);

        // Alone at its priority: the priority goes whole, hash table included.
        rt.AddU32MirredFilter(aIndex, AfPacketSteal.Parent, AfPacketSteal.Priority, AfPacketSteal.Handle, U32Match.All, MirredAction.EgressMirror, cIndex);
        uint handle = AfPacketSteal.FindOurs(rt, aIndex, "u32") ?? throw new Xunit.Sdk.XunitException("the u32 filter is not in the dump");
        Assert.Equal(0xAFu, handle & 0xFFFFF);
        Assert.NotEqual(0u, handle >> 20); // its own hash table, not 0
        Assert.True(AfPacketSteal.RemoveFilter(rt, aIndex, "u32", handle));
        Assert.Equal(before, Snapshot(ns, a));
        Assert.False(AfPacketSteal.RemoveFilter(rt, aIndex, "u32", handle)); // gone: nothing to do

        // Someone added a filter at our priority since: only our node goes, theirs stays.
        rt.AddU32MirredFilter(aIndex, AfPacketSteal.Parent, AfPacketSteal.Priority, AfPacketSteal.Handle, U32Match.All, MirredAction.EgressMirror, cIndex);
        handle = AfPacketSteal.FindOurs(rt, aIndex, "u32")!.Value;
        Tc(ns, "filter", "add", "dev", a, "ingress", "prio", "175", "protocol", "all", "u32", "match", "u32", "0x0a000000", "0xff000000", "at", "16", "flowid", ":3");
        Assert.True(AfPacketSteal.RemoveFilter(rt, aIndex, "u32", handle));
        string after = Tc(ns, "filter", "show", "dev", a, "ingress");
        Assert.Contains("match 0a000000/ff000000 at 16", after, StringComparison.Ordinal);
        Assert.DoesNotContain("::af ", after, StringComparison.Ordinal);
        Assert.DoesNotContain("mirred", after, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Steal_devarg_is_off_by_default_and_takes_the_flag_form()
    {
        RequireLab();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair();
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));

        var plain = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a).Ports[0]));
        Assert.False(plain.IsStealing);
        Assert.DoesNotContain("ingress", Tc(ns, "qdisc", "show", "dev", a), StringComparison.Ordinal);

        var flag = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet1,iface=" + b + ",steal").Ports[0]));
        Assert.True(flag.IsStealing);
        var off = Assert.IsType<AfPacketEthDev>(ns.Run(() => runtime.Vdev.Probe("net_af_packet2,iface=" + a + ",steal=0").Ports[0]));
        Assert.False(off.IsStealing);

        var bad = Assert.Throws<DevargsException>(() => ns.Run(() => runtime.Vdev.Probe("net_af_packet3,iface=" + a + ",steal=2")));
        Assert.Equal("steal", bad.Key);
        Assert.Contains(new AfPacketDriver().Schema.Keys, k => k.Name == "steal");
        flag.Close();
        Assert.DoesNotContain("ingress", Tc(ns, "qdisc", "show", "dev", b), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_errors_name_the_netlink_error_as_the_kernel_spells_it()
    {
        var refused = new NetlinkException("RTM_NEWTFILTER u32 on ifindex 7", Hyperlane.Linux.Errno.ENOTSUP, "Operation not supported by the device");
        Assert.Equal("EOPNOTSUPP (Operation not supported; kernel says: Operation not supported by the device)", AfPacketSteal.Explain(refused));
        var noGact = new NetlinkException("RTM_NEWTFILTER u32 on ifindex 7", Hyperlane.Linux.Errno.ENOENT, "Failed to load TC action module");
        Assert.Equal("ENOENT (No such file or directory; kernel says: Failed to load TC action module)", AfPacketSteal.Explain(noGact));
        Assert.Equal("EPERM (Operation not permitted)", AfPacketSteal.Explain(new NetlinkException("RTM_NEWQDISC ingress on ifindex 7", Hyperlane.Linux.Errno.EPERM, null)));
        Assert.StartsWith("ETIMEDOUT (", AfPacketSteal.Explain(new TimeoutException("RTM_NEWTFILTER: no answer from the kernel within 2000 ms")), StringComparison.Ordinal);
    }

    private static void RequireLab()
    {
        Requires.NetNamespaces();
        Requires.Check(TcPath is not null, "needs the tc command (apt-get install iproute2)");
    }

    private static string? TcPath { get; } = new[] { "/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc" }.FirstOrDefault(File.Exists);

    private static string Tc(NetNamespace ns, params string[] args) => IpCommand.Exec(TcPath!, ["-n", ns.Name, .. args]);

    /// <summary>What close must give back: the interface's qdiscs and ingress filters, as tc prints them in JSON.</summary>
    private static (string Qdiscs, string Filters) Snapshot(NetNamespace ns, string ifname) =>
        (Tc(ns, "-j", "qdisc", "show", "dev", ifname), Tc(ns, "-j", "filter", "show", "dev", ifname, "ingress"));

    /// <summary>The ingress qdisc's drop counter (TC_ACT_SHOT on ingress counts there).</summary>
    private static long IngressDrops(NetNamespace ns, string ifname)
    {
        using var doc = JsonDocument.Parse(Tc(ns, "-s", "-j", "qdisc", "show", "dev", ifname, "ingress"));
        var ingress = Assert.Single(doc.RootElement.EnumerateArray(), q => q.GetProperty("kind").GetString() == "ingress");
        return ingress.GetProperty("drops").GetInt64();
    }

    /// <summary>B asks "who has 198.18.0.1", pings it <paramref name="pings"/> times and sends UDP frames; returns the frame count.</summary>
    private static int SendArpPingsAndUdp(KernelPort peer, int pings, int udp)
    {
        var buffer = new byte[128];
        peer.Send(buffer.AsSpan(0, PacketBuilder.ArpRequest(buffer, AfPacketLab.MacB, AfPacketLab.IpB, AfPacketLab.IpA)));
        for (int i = 0; i < pings; i++)
        {
            peer.Send(buffer.AsSpan(0, PacketBuilder.IcmpEchoRequest4(buffer, AfPacketLab.MacB, AfPacketLab.MacA, AfPacketLab.IpB, AfPacketLab.IpA, 0x484c, (ushort)(i + 1), 98)));
        }

        for (int i = 0; i < udp; i++)
        {
            peer.Send(AfPacketLab.FrameToA(100, (ushort)(6000 + i)));
        }

        return 1 + pings + udp;
    }

    /// <summary>Polls every queue until <paramref name="count"/> frames arrived or the timeout; returns (ARP, ICMP, UDP) counts.</summary>
    private static (int Arp, int Icmp, int Udp) ReceiveByType(AfPacketLab lab, int queues, int count)
    {
        int arp = 0, icmp = 0, udp = 0;
        var burst = new Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (arp + icmp + udp < count && sw.Elapsed < Wait)
        {
            for (int q = 0; q < queues; q++)
            {
                int n = lab.Port.RxBurst(q, burst);
                for (int i = 0; i < n; i++)
                {
                    byte[] f = AfPacketLab.ToArray(burst[i]);
                    if (f.Length >= 42 && f[12] == 0x08 && f[13] == 0x06)
                    {
                        arp++;
                    }
                    else if (f.Length >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1)
                    {
                        icmp++;
                    }
                    else if (AfPacketLab.IsOurs(f, AfPacketLab.MacA))
                    {
                        udp++;
                    }
                }

                Mbuf.FreeBulk(burst.AsSpan(0, n));
            }

            Thread.Sleep(1);
        }

        return (arp, icmp, udp);
    }

    private static bool IsArpReplyFromA(byte[] f) =>
        f.Length >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2 && f.AsSpan(28, 4).SequenceEqual(new byte[] { 198, 18, 0, 1 });

    private static bool IsEchoReplyFromA(byte[] f) =>
        f.Length >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 0 && f.AsSpan(26, 4).SequenceEqual(new byte[] { 198, 18, 0, 1 });
}
