using System.Diagnostics;
using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.AfPacket.Tests;

/// <summary>
/// net_af_packet against a real veth pair in a namespace of its own. One collection (with
/// <see cref="AfPacketStealTests"/>), run alone: the tests count the process's open descriptors, which
/// tests running beside them would move.
/// </summary>
[Collection(Collection)]
public sealed class AfPacketTests
{
    /// <summary>The xUnit collection of the kernel-lab tests: they never run in parallel with each other.</summary>
    public const string Collection = "af_packet kernel lab";

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    [SkippableFact]
    public void Rx_from_the_peer_delivers_the_same_bytes()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create();
        var sent = Enumerable.Range(0, 20).Select(i => AfPacketLab.FrameToA(60 + (i * 50), (ushort)(1000 + i))).ToList();
        foreach (var f in sent)
        {
            lab.Peer.Send(f);
        }

        var ports = new List<ushort>();
        var got = lab.ReceiveOurs(0, sent.Count, Wait, m =>
        {
            ports.Add(m.Port);
            Assert.Equal(1, m.SegmentCount);
        });
        Assert.Equal(sent.Count, got.Count);
        var bySport = got.ToDictionary(f => AfPacketLab.SourcePort(f));
        foreach (var f in sent)
        {
            Assert.Equal(f, bySport[AfPacketLab.SourcePort(f)]);
        }

        Assert.All(ports, p => Assert.Equal(lab.Port.PortId, p));
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    [SkippableFact]
    public void Rx_of_a_vlan_tagged_frame_reports_the_stripped_tag()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create();
        var tagged = AfPacketLab.FrameToA(100, 4242, vlan: 100);
        lab.Peer.Send(tagged);

        ushort tci = 0;
        MbufOffloadFlags flags = 0;
        byte[]? data = null;
        Span<Mbuf> burst = stackalloc Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (data is null && sw.Elapsed < Wait)
        {
            int n = lab.Port.RxBurst(0, burst);
            for (int i = 0; i < n; i++)
            {
                if ((burst[i].OffloadFlags & MbufOffloadFlags.RxVlanStripped) != 0)
                {
                    tci = burst[i].VlanTci;
                    flags = burst[i].OffloadFlags;
                    data = AfPacketLab.ToArray(burst[i]);
                }
            }

            Mbuf.FreeBulk(burst[..n]);
            Thread.Sleep(1);
        }

        Assert.NotNull(data);
        Assert.Equal(100, tci & 0x0fff);
        Assert.True((flags & MbufOffloadFlags.RxVlan) != 0);

        // The data is the frame without its 802.1Q tag.
        var untagged = tagged[..12].Concat(tagged[16..]).ToArray();
        Assert.Equal(untagged, data);
    }

    [SkippableFact]
    public void Tx_to_the_peer_delivers_the_same_bytes_and_counts()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create();
        const int Count = 100;
        var frames = Enumerable.Range(0, Count).Select(i => AfPacketLab.FrameToB(64 + (i * 13), (ushort)(2000 + i))).ToList();
        var mbufs = frames.Select(f => LabFrames.ToMbuf(lab.Pool, f)).ToArray();
        lab.TransmitAll(0, mbufs);

        var received = new Dictionary<ushort, byte[]>();
        var sw = Stopwatch.StartNew();
        while (received.Count < Count && sw.Elapsed < Wait)
        {
            var f = lab.Peer.Receive(TimeSpan.FromMilliseconds(200));
            if (f is not null && AfPacketLab.IsOurs(f, AfPacketLab.MacB))
            {
                received[AfPacketLab.SourcePort(f)] = f;
            }
        }

        Assert.Equal(Count, received.Count);
        foreach (var f in frames)
        {
            Assert.Equal(f, received[AfPacketLab.SourcePort(f)]);
        }

        var st = lab.Port.GetStats();
        Assert.Equal(Count, st.TxPackets);
        Assert.Equal(frames.Sum(f => (long)f.Length), st.TxBytes);
        Assert.Equal(0, st.TxErrors);
        Assert.Equal(0, lab.Pool.Audit().InUse); // Tx freed every mbuf it took
    }

    [SkippableFact]
    public void Stats_count_packets_bytes_and_kernel_drops()
    {
        Requires.NetNamespaces();

        // A tiny Rx ring (8 blocks of 4 KiB) that the test does not drain: the kernel must drop, and say so.
        using var lab = AfPacketLab.Create(",framecnt=16");
        var frame = AfPacketLab.FrameToA(1000, 7);
        int sent = lab.Peer.SendMany(frame, 400);
        Assert.Equal(400, sent);
        Thread.Sleep(20);
        var got = lab.ReceiveOurs(0, 400, TimeSpan.FromMilliseconds(300));
        var st = lab.Port.GetStats();
        Assert.True(st.RxMissed > 0, $"RxMissed {st.RxMissed}, received {got.Count}");
        Assert.Equal(got.Count, st.RxPackets);
        Assert.Equal(got.Count * 1000L, st.RxBytes);
        Assert.Equal(400, got.Count + st.RxMissed);
        Assert.Contains(lab.Port.GetXStats(), x => x.Name == "rx_q0_kernel_drops" && x.Value == st.RxMissed);

        lab.Port.ResetStats();
        var zero = lab.Port.GetStats();
        Assert.Equal(0, zero.RxPackets);
        Assert.Equal(0, zero.RxMissed);
        Assert.Contains(lab.Port.GetXStats(), x => x.Name == "rx_q0_kernel_drops" && x.Value == 0); // reset with RxMissed, as DPDK's xstats_reset
    }

    [SkippableFact]
    public void Two_queue_pairs_spread_many_flows_over_both_queues()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create(",qpairs=2,fanout_mode=hash", queues: 2);
        var fanout = Assert.IsType<AfPacketEthDev>(lab.Port).FanoutGroup;
        Assert.InRange(fanout, 0, 0xffff);
        const int Flows = 256;
        for (int i = 0; i < Flows; i++)
        {
            lab.Peer.Send(AfPacketLab.FrameToA(80, (ushort)(3000 + i)));
        }

        var perQueue = new int[2];
        var seen = new HashSet<ushort>();
        Span<Mbuf> burst = stackalloc Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (seen.Count < Flows && sw.Elapsed < Wait)
        {
            for (int q = 0; q < 2; q++)
            {
                int n = lab.Port.RxBurst(q, burst);
                for (int i = 0; i < n; i++)
                {
                    var b = AfPacketLab.ToArray(burst[i]);
                    if (AfPacketLab.IsOurs(b, AfPacketLab.MacA) && seen.Add(AfPacketLab.SourcePort(b)))
                    {
                        perQueue[q]++;
                    }
                }

                Mbuf.FreeBulk(burst[..n]);
            }

            Thread.Sleep(1);
        }

        Assert.Equal(Flows, perQueue[0] + perQueue[1]);
        Assert.True(perQueue[0] > Flows / 8 && perQueue[1] > Flows / 8, $"queue 0: {perQueue[0]}, queue 1: {perQueue[1]}");
        var st = lab.Port.GetStats();
        Assert.True(st.RxQueues[0].Packets >= perQueue[0] && st.RxQueues[1].Packets >= perQueue[1]);

        // Tx on queue 1 goes out of socket 1.
        lab.TransmitAll(1, [LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(90, 5555))]);
        Assert.Equal(1, lab.Peer.CountReceived(TimeSpan.FromMilliseconds(200), f => AfPacketLab.IsOurs(f, AfPacketLab.MacB) && AfPacketLab.SourcePort(f) == 5555));
        Assert.Equal(1, lab.Port.GetStats().TxQueues[1].Packets);
    }

    [SkippableFact]
    public void Jumbo_frames_of_9000_bytes_round_trip_as_multi_segment_mbufs()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create(",blocksz=65536,framesz=9216,framecnt=64", mtu: 9000);
        Assert.Equal(9000, Assert.IsType<AfPacketEthDev>(lab.Port).InterfaceMtu);

        // Rx: one 9014-byte frame arrives as a chain of 2 KiB segments.
        var inFrame = AfPacketLab.FrameToA(9014, 9001);
        lab.Peer.Send(inFrame);
        int segments = 0;
        var got = lab.ReceiveOurs(0, 1, Wait, m => segments = m.SegmentCount);
        Assert.Single(got);
        Assert.Equal(inFrame, got[0]);
        Assert.True(segments >= 5, $"{segments} segments");

        // Tx: a chained 9014-byte mbuf reaches the peer whole.
        var outFrame = AfPacketLab.FrameToB(9014, 9002);
        var m = LabFrames.ToMbuf(lab.Pool, outFrame);
        Assert.True(m.SegmentCount >= 5);
        lab.TransmitAll(0, [m]);
        byte[]? peerGot = null;
        var sw = Stopwatch.StartNew();
        while (peerGot is null && sw.Elapsed < Wait)
        {
            var f = lab.Peer.Receive(TimeSpan.FromMilliseconds(200));
            if (f is not null && AfPacketLab.IsOurs(f, AfPacketLab.MacB))
            {
                peerGot = f;
            }
        }

        Assert.Equal(outFrame, peerGot);

        // Larger than MTU + L2 header: counted as an error and freed, never truncated onto the wire.
        var tooBig = LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(9100, 9003));
        Assert.Equal(1, lab.Port.TxBurst(0, [tooBig]));
        Assert.Equal(1, lab.Port.GetStats().TxErrors);
        Assert.Equal(0, lab.Peer.CountReceived(TimeSpan.FromMilliseconds(100), f => AfPacketLab.IsOurs(f, AfPacketLab.MacB) && AfPacketLab.SourcePort(f) == 9003));
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    [SkippableFact]
    public void Frames_larger_than_framesz_are_tx_errors()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create(",framesz=1024", mtu: 9000);
        var big = LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(1200, 1));
        var ok = LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(900, 2));
        Assert.Equal(2, lab.Port.TxBurst(0, [big, ok]));
        var st = lab.Port.GetStats();
        Assert.Equal(1, st.TxErrors);
        Assert.Equal(1, st.TxPackets);
        Assert.Equal(0, lab.Pool.Audit().InUse);
        Assert.Equal(1, lab.Peer.CountReceived(TimeSpan.FromMilliseconds(150), f => AfPacketLab.IsOurs(f, AfPacketLab.MacB)));
    }

    [SkippableFact]
    public void Deleting_the_interface_raises_removal_within_100ms_and_stops_tx()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create();
        using var removed = new ManualResetEventSlim();
        long removedAt = 0;
        string? detail = null;
        lab.Port.EventRaised += (_, e) =>
        {
            if (e.Type == EthDevEventType.Removal)
            {
                removedAt = Stopwatch.GetTimestamp();
                detail = e.Detail;
                removed.Set();
            }
        };

        long start = Stopwatch.GetTimestamp();
        lab.Ns.DeleteLink(lab.A);
        Assert.True(removed.Wait(TimeSpan.FromSeconds(2)), "no Removal event");
        double ms = Stopwatch.GetElapsedTime(start, removedAt).TotalMilliseconds;
        Assert.True(ms < 100, $"Removal after {ms:F1} ms");
        Assert.Equal($"kernel interface {lab.A} deleted", detail);

        var port = Assert.IsType<AfPacketEthDev>(lab.Port);
        Assert.True(port.IsRemoved);
        Assert.False(lab.Port.GetLink().IsUp);

        var mbufs = Enumerable.Range(0, 8).Select(i => LabFrames.ToMbuf(lab.Pool, AfPacketLab.FrameToB(64, (ushort)i))).ToArray();
        Assert.Equal(0, lab.Port.TxBurst(0, mbufs));
        Span<Mbuf> rx = stackalloc Mbuf[8];
        Assert.Equal(0, lab.Port.RxBurst(0, rx));
        Assert.Equal(0, lab.Port.GetStats().TxPackets);

        // The mbufs are still the caller's: freeing them fills the pool again.
        Assert.Equal(8, lab.Pool.Audit().InUse);
        Mbuf.FreeBulk(mbufs);
        Assert.True(lab.Pool.Audit().IsFull);

        lab.Port.Close(); // closing a removed port works
    }

    [SkippableFact]
    public void Link_down_and_up_raise_link_status_change()
    {
        Requires.NetNamespaces();
        using var lab = AfPacketLab.Create();
        var events = new System.Collections.Concurrent.BlockingCollection<EthDevEventArgs>();
        lab.Port.EventRaised += (_, e) => events.Add(e);
        Assert.True(lab.Port.GetLink().IsUp);

        lab.Ns.SetDown(lab.A);
        Assert.True(events.TryTake(out var down, TimeSpan.FromSeconds(2)), "no event on link down");
        Assert.Equal(EthDevEventType.LinkStatusChange, down!.Type);
        Assert.False(lab.Port.GetLink().IsUp);

        lab.Ns.SetUp(lab.A);
        Assert.True(events.TryTake(out var up, TimeSpan.FromSeconds(2)), "no event on link up");
        Assert.Equal(EthDevEventType.LinkStatusChange, up!.Type);
        Assert.True(lab.Port.WaitForLink(TimeSpan.FromSeconds(1)).IsUp);

        // The port sets the link itself too (DPDK's af_packet cannot: failsafe then crashes).
        lab.Port.SetLinkDown();
        Assert.True(events.TryTake(out var down2, TimeSpan.FromSeconds(2)));
        Assert.Equal(EthDevEventType.LinkStatusChange, down2!.Type);
        lab.Port.SetLinkUp();
        Assert.True(lab.Port.WaitForLink(TimeSpan.FromSeconds(2)).IsUp);
    }

    [SkippableFact]
    public void Bad_devargs_give_one_line_errors_and_leave_nothing_behind()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        ns.Run(() =>
        {
            using var runtime = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] });
            int fdsBefore = Directory.GetFiles("/proc/self/fd").Length;
            var cases = new (string Args, string? Key, string Needle)[]
            {
                ("net_af_packet0", "iface", "required"),
                ("net_af_packet0,iface=hlnosuch0", null, "net_af_packet0: iface 'hlnosuch0' does not exist (ENODEV)"),
                ("net_af_packet0,iface=abcdefghijklmnop", "iface", "longer than 15"),
                ("net_af_packet0,iface=" + a + ",framesz=1000", "framesz", "multiple of 16"),
                ("net_af_packet0,iface=" + a + ",framesz=8192", "framesz", "larger than blocksz"),
                ("net_af_packet0,iface=" + a + ",blocksz=6144", "blocksz", "power of two"),
                ("net_af_packet0,iface=" + a + ",qpairs=0", "qpairs", "qpairs"),
                ("net_af_packet0,iface=" + a + ",qpairs=17", "qpairs", "qpairs"),
                ("net_af_packet0,iface=" + a + ",fanout_mode=spray", "fanout_mode", "fanout_mode"),
                ("net_af_packet0,iface=" + a + ",qdisc_bypass=2", "qdisc_bypass", "qdisc_bypass"),
                ("net_af_packet0,iface=" + a + ",steal=2", "steal", "steal"),
            };
            foreach (var (args, key, needle) in cases)
            {
                var ex = Assert.ThrowsAny<Exception>(() => runtime.Vdev.Probe(args));
                Assert.True(ex is DevargsException or DeviceException, $"{args}: {ex.GetType().Name}: {ex.Message}");
                Assert.DoesNotContain('\n', ex.Message);
                Assert.Contains(needle, ex.Message, StringComparison.Ordinal);
                if (key is not null)
                {
                    Assert.Equal(key, Assert.IsType<DevargsException>(ex).Key);
                }
                else
                {
                    Assert.Equal(needle, ex.Message);
                }
            }

            Assert.Empty(runtime.Ports.All);
            Assert.Empty(runtime.Vdev.Devices);
            Assert.Equal(fdsBefore, Directory.GetFiles("/proc/self/fd").Length);
        });
    }

    [SkippableFact]
    public void Tx_and_rx_bursts_allocate_nothing()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02");
        using var pool = Mempool.CreatePacketPool($"afp_{Guid.NewGuid():N}", 4096, cacheSize: 0);
        using var runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));
        var tx = ns.Run(() => runtime.Vdev.Probe("net_af_packet0,iface=" + a).Ports[0]);
        var rx = ns.Run(() => runtime.Vdev.Probe("net_af_packet1,iface=" + b).Ports[0]);
        foreach (var p in new[] { tx, rx })
        {
            p.Configure(1, 1);
            p.SetupRxQueue(0, 512, pool);
            p.SetupTxQueue(0, 512);
            p.Start();
        }

        var frame = AfPacketLab.FrameToB(64, 1);
        long received = 0;
        var mbufs = new Mbuf[32];
        var got = new Mbuf[64];

        void Run(long packets)
        {
            long sentTarget = packets, sent = 0, start = received;
            long deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 10);
            long lastRx = Stopwatch.GetTimestamp();
            while (received - start < packets && Stopwatch.GetTimestamp() < deadline)
            {
                if (sent == sentTarget && Stopwatch.GetTimestamp() - lastRx > Stopwatch.Frequency / 5)
                {
                    break; // everything sent and nothing more arrives: the kernel dropped the rest
                }

                if (sent < sentTarget)
                {
                    int want = (int)Math.Min(mbufs.Length, sentTarget - sent);
                    Span<Mbuf> batch = mbufs.AsSpan(0, want);
                    if (pool.AllocBulk(batch) == want)
                    {
                        for (int i = 0; i < want; i++)
                        {
                            batch[i].TryAppend(frame.Length, out Span<byte> data);
                            frame.CopyTo(data);
                        }

                        int n = tx.TxBurst(0, batch);
                        sent += n;
                        Mbuf.FreeBulk(batch[n..]);
                    }
                }

                int r = rx.RxBurst(0, got);
                if (r > 0)
                {
                    lastRx = Stopwatch.GetTimestamp();
                }

                received += r;
                Mbuf.FreeBulk(got.AsSpan(0, r));
            }
        }

        Run(5_000); // warm-up: JIT, tiering, first touch of the rings
        long before = ThreadAllocations.Baseline();
        Run(100_000);
        long allocated = ThreadAllocations.Since(before);
        Assert.True(received >= 100_000 * 95 / 100, $"received {received}");
        Assert.Equal(0, allocated);
    }
}

/// <summary>The kernel-lab collection runs with no other test of this assembly beside it (see <see cref="AfPacketTests"/>).</summary>
[CollectionDefinition(AfPacketTests.Collection, DisableParallelization = true)]
public sealed class AfPacketLabCollection;
