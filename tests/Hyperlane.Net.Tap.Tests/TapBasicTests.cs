using Hyperlane.Core.Ports;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

public sealed class TapBasicTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    [SkippableFact]
    public void Port_tx_reaches_the_kernel_and_kernel_tx_reaches_port_rx()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tp");
        var port = lab.Start($"net_tap0,iface={ifname}");
        Assert.Equal(ifname, port.InterfaceName);
        using var kp = KernelPort.Open(lab.Ns, ifname);

        byte[] toKernel = TapLab.Udp(port.MacAddress.ToString(), "02:00:00:bb:00:99", 100);
        TapLab.Send(port, lab.Packet(toKernel));
        byte[]? seen = kp.Receive(Wait);
        Assert.NotNull(seen);
        Assert.Equal(toKernel, seen);

        byte[] toPort = TapLab.Udp("02:00:00:bb:00:99", port.MacAddress.ToString(), 120, 7, 8);
        kp.Send(toPort);
        var got = TapLab.Receive(port, 1, Wait);
        Assert.Single(got);
        Assert.Equal(toPort, TapLab.Bytes(got[0]));
        Assert.Equal(port.PortId, got[0].Port);
        got[0].Free();

        var stats = port.GetStats();
        Assert.Equal(1, stats.TxPackets);
        Assert.Equal(1, stats.RxPackets);
    }

    [SkippableTheory]
    [InlineData(2)]
    [InlineData(4)]
    public void Flows_from_the_kernel_spread_over_the_queues(int queues)
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tq");
        var port = lab.Start($"net_tap0,iface={ifname}", queues);
        using var kp = KernelPort.Open(lab.Ns, ifname);
        const int flows = 64, perFlow = 4;
        for (int f = 0; f < flows; f++)
        {
            byte[] frame = TapLab.Udp("02:00:00:bb:00:99", port.MacAddress.ToString(), 80, (ushort)(1000 + f), 53);
            for (int i = 0; i < perFlow; i++)
            {
                kp.Send(frame);
            }
        }

        var perQueue = new int[queues];
        var deadline = DateTime.UtcNow + Wait;
        var burst = new Mbuf[32];
        while (perQueue.Sum() < flows * perFlow && DateTime.UtcNow < deadline)
        {
            for (int q = 0; q < queues; q++)
            {
                int n = port.RxBurst(q, burst);
                perQueue[q] += n;
                Mbuf.FreeBulk(burst.AsSpan(0, n));
            }
        }

        Assert.Equal(flows * perFlow, perQueue.Sum());
        Assert.True(perQueue.Count(c => c > 0) >= 2, $"flows landed on queues: {string.Join(",", perQueue)}");
        var stats = port.GetStats();
        Assert.Equal(flows * perFlow, stats.RxPackets);
        for (int q = 0; q < queues; q++)
        {
            Assert.Equal(perQueue[q], stats.RxQueues[q].Packets);
        }
    }

    [SkippableFact]
    public void Unequal_queue_counts_are_refused()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var port = lab.Probe($"net_tap0,iface={NetNamespace.UniqueIfName("tu")}");
        var ex = Assert.Throws<EthDevException>(() => port.Configure(2, 1));
        Assert.Contains("as many Rx as Tx queues", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Mtu_and_mac_changes_are_visible_in_the_kernel()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tm");
        var port = lab.Start($"net_tap0,iface={ifname},mac=02:00:00:bb:00:10");
        Assert.Equal("02:00:00:bb:00:10", lab.Link(ifname).GetProperty("address").GetString());
        port.SetMtu(9000);
        port.SetMacAddress(MacAddress.Parse("02:00:00:bb:00:11"));
        var link = lab.Link(ifname);
        Assert.Equal(9000, link.GetProperty("mtu").GetInt32());
        Assert.Equal("02:00:00:bb:00:11", link.GetProperty("address").GetString());
        port.EnablePromiscuous();
        Assert.True(lab.Link(ifname).GetProperty("promiscuity").GetInt32() > 0);
        port.DisablePromiscuous();
        Assert.Equal(0, lab.Link(ifname).GetProperty("promiscuity").GetInt32());
    }

    [SkippableFact]
    public void Fixed_mac_is_dpdks()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tf");
        var port = lab.Probe($"net_tap3,iface={ifname},mac=fixed");
        Assert.Equal("02:64:74:61:70:03", port.MacAddress.ToString().ToLowerInvariant());
        Assert.Equal("02:64:74:61:70:03", lab.Link(ifname).GetProperty("address").GetString());
    }

    [SkippableFact]
    public void Link_down_and_up_raise_events()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tl");
        var events = new System.Collections.Concurrent.BlockingCollection<EthDevEventArgs>();
        var port = lab.Probe($"net_tap0,iface={ifname}");
        port.EventRaised += (_, e) => events.Add(e);
        port.Configure(1, 1, new EthConf { LinkStatusEvents = true });
        port.SetupRxQueue(0, 512, lab.Pool);
        port.SetupTxQueue(0, 512);
        port.Start();
        Assert.True(port.WaitForLink(Wait).IsUp);
        Assert.True(events.TryTake(out var up, Wait), "no event for start");
        Assert.Equal(EthDevEventType.LinkStatusChange, up.Type);

        port.SetLinkDown();
        Assert.True(events.TryTake(out var down, Wait), "no event for link down");
        Assert.Equal(EthDevEventType.LinkStatusChange, down.Type);
        Assert.False(port.GetLink().IsUp);

        lab.Ns.SetUp(ifname); // from outside the port: the kernel tells us
        Assert.True(events.TryTake(out var up2, Wait), "no event for link up");
        Assert.Equal(EthDevEventType.LinkStatusChange, up2.Type);
        Assert.True(port.GetLink().IsUp);
    }

    [SkippableFact]
    public void Deleting_the_tap_raises_removal_and_bursts_return_zero()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("td");
        var port = lab.Start($"net_tap0,iface={ifname}");
        using var removed = new ManualResetEventSlim();
        port.EventRaised += (_, e) =>
        {
            if (e.Type == EthDevEventType.Removal)
            {
                removed.Set();
            }
        };
        lab.Ns.DeleteLink(ifname);
        Assert.True(removed.Wait(Wait), "no removal event");
        Mbuf m = lab.Packet(TapLab.Udp("02:00:00:bb:00:01", "02:00:00:bb:00:02"));
        Assert.Equal(0, port.TxBurst(0, [m]));
        m.Free();
        Assert.Equal(0, port.RxBurst(0, new Mbuf[4]));
    }

    [SkippableFact]
    public void Jumbo_frame_of_9000_bytes_round_trips_as_a_chain()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string ifname = NetNamespace.UniqueIfName("tj");
        var port = lab.Start($"net_tap0,iface={ifname}", conf: new EthConf { Mtu = 9000 });
        Assert.Equal(9000, lab.Link(ifname).GetProperty("mtu").GetInt32());
        using var kp = KernelPort.Open(lab.Ns, ifname);
        byte[] frame = TapLab.Udp(port.MacAddress.ToString(), "02:00:00:bb:00:99", 9014);
        Mbuf m = lab.Packet(frame);
        Assert.Equal(5, m.SegmentCount);
        TapLab.Send(port, m);
        Assert.Equal(frame, kp.Receive(Wait));

        byte[] back = TapLab.Udp("02:00:00:bb:00:99", port.MacAddress.ToString(), 9014, 3, 4);
        kp.Send(back);
        var got = TapLab.Receive(port, 1, Wait);
        Assert.Single(got);
        Assert.Null(got[0].Validate());
        Assert.True(got[0].SegmentCount > 1);
        Assert.Equal(back, TapLab.Bytes(got[0]));
        got[0].Free();
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tso_packet_of_64k_goes_to_the_kernel_as_one_gso_skb(bool peerTakesGso)
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string a = NetNamespace.UniqueIfName("tga"), b = NetNamespace.UniqueIfName("tgb");
        var tx = lab.Start($"net_tap0,iface={a}");
        var rx = lab.Start($"net_tap1,iface={b}", conf: new EthConf { RxOffloads = peerTakesGso ? RxOffloads.TcpLro | RxOffloads.TcpChecksum : RxOffloads.None });
        using var kp = KernelPort.Open(lab.Ns, a);
        lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            nl.AddQdisc(tx.InterfaceIndex, QdiscKind.Ingress);
            nl.AddU32MirredFilter(tx.InterfaceIndex, 0xFFFF0000, 1, 0, U32Match.All, MirredAction.EgressRedirect, rx.InterfaceIndex);
        });

        const int frameLength = 65000, headers = 54, mss = 1448;
        var frame = new byte[frameLength];
        uint src = PacketBuilder.Ip(10, 0, 0, 1), dst = PacketBuilder.Ip(10, 0, 0, 2);
        PacketBuilder.Tcp4(frame, tx.MacAddress, rx.MacAddress, src, dst, 40000, 80, frameLength, TcpFlags.Ack, 1000, 1);
        // DPDK's TSO convention: the TCP checksum field holds the pseudo-header sum without the length.
        ushort phdr = Checksum.Ipv4PseudoHeaderSum(src, dst, 6, 0);
        frame[14 + 20 + 16] = (byte)(phdr >> 8);
        frame[14 + 20 + 17] = (byte)phdr;
        Mbuf m = lab.Packet(frame);
        m.L2Length = 14;
        m.L3Length = 20;
        m.L4Length = 20;
        m.TsoSegmentSize = mss;
        m.OffloadFlags = MbufOffloadFlags.TxTcpSegmentation | MbufOffloadFlags.TxIpv4 | MbufOffloadFlags.TxIpChecksum;
        TapLab.Send(tx, m);

        // What the kernel really does: the tap's ingress sees one 65000-byte GSO skb (AF_PACKET taps it whole).
        byte[]? seen = kp.Receive(Wait);
        Assert.NotNull(seen);
        Assert.Equal(frameLength, seen!.Length);

        int expectedPackets = peerTakesGso ? 1 : (frameLength - headers + mss - 1) / mss;
        var got = TapLab.Receive(rx, expectedPackets, Wait);
        try
        {
            Assert.Equal(expectedPackets, got.Count);
            long payload = 0;
            foreach (var p in got)
            {
                Assert.Null(p.Validate());
                byte[] bytes = TapLab.Bytes(p);
                int tcpPayload = bytes.Length - headers;
                payload += tcpPayload;
                if (peerTakesGso)
                {
                    // One GSO packet, as multi-segment mbuf, LRO flag and segment size, checksum left partial.
                    Assert.True(p.SegmentCount > 1);
                    Assert.True((p.OffloadFlags & MbufOffloadFlags.RxLro) != 0);
                    Assert.Equal(mss, p.TsoSegmentSize);
                    Assert.True((p.OffloadFlags & MbufOffloadFlags.RxL4ChecksumNone) != 0);
                }
                else
                {
                    // Segmented by the kernel: every segment a full, correct TCP/IP packet.
                    Assert.True(tcpPayload <= mss);
                    Assert.Equal(Checksum.Ipv4Header(bytes.AsSpan(14, 20)), (ushort)((bytes[24] << 8) | bytes[25]));
                    Assert.Equal(Checksum.L4Ipv4(bytes.AsSpan(14)), (ushort)((bytes[50] << 8) | bytes[51]));
                }

                Assert.True(frame.AsSpan(headers + (int)payload - tcpPayload, tcpPayload).SequenceEqual(bytes.AsSpan(headers)), "payload differs");
            }

            Assert.Equal(frameLength - headers, payload);
        }
        finally
        {
            foreach (var p in got)
            {
                p.Free();
            }
        }
    }
}
