using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Net.Ring;

namespace Hyperlane.Net.Tests;

public class RingPortTests
{
    private static HyperlaneRuntime NewRuntime() => new(new HyperlaneRuntimeOptions { Drivers = [new RingDriver()] });

    private static Mempool Pool(int count = 512) => Mempool.CreatePacketPool($"ring_{Guid.NewGuid():N}", count, cacheSize: 0);

    private static void Start(EthDev dev, Mempool pool, int queues = 1)
    {
        dev.Configure(queues, queues);
        for (int q = 0; q < queues; q++)
        {
            dev.SetupRxQueue(q, 512, pool);
            dev.SetupTxQueue(q, 512);
        }

        dev.Start();
    }

    private static Mbuf[] Packets(Mempool pool, int count, int length = 60)
    {
        var packets = new Mbuf[count];
        for (int i = 0; i < count; i++)
        {
            packets[i] = pool.Alloc();
            Assert.True(packets[i].TryAppend(length, out var data));
            data[0] = (byte)i;
        }

        return packets;
    }

    [Fact]
    public void A_port_without_arguments_loops_back_to_itself()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Assert.IsType<RingEthDev>(rt.Vdev.Probe("net_ring0").Ports[0]);
        Assert.Equal("net_ring0", dev.RxRingName);
        Assert.Equal("net_ring0", dev.TxRingName);
        Start(dev, pool);
        var sent = Packets(pool, 8);

        Assert.Equal(8, dev.TxBurst(0, sent));
        var got = new Mbuf[16];
        Assert.Equal(8, dev.RxBurst(0, got));

        Assert.Equal(sent, got.Take(8));
        Assert.Equal(0, dev.RxBurst(0, got));
        var s = dev.GetStats();
        Assert.Equal(8, s.TxPackets);
        Assert.Equal(8, s.RxPackets);
        Mbuf.FreeBulk(got.AsSpan(0, 8));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_linked_pair_exchanges_the_same_mbufs_in_order_both_ways()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var (p0, p1) = RingDriver.CreateLinkedPair(rt);
        Assert.Equal(("net_ring0", "net_ring1"), (p0.Name, p1.Name));
        Start(p0, pool);
        Start(p1, pool);
        var got = new Mbuf[64];

        var forward = Packets(pool, 40);
        Assert.Equal(40, p0.TxBurst(0, forward));
        Assert.Equal(0, p0.RxBurst(0, got)); // nothing loops back
        Assert.Equal(32, p1.RxBurst(0, got.AsSpan(0, 32)));
        Assert.Equal(8, p1.RxBurst(0, got.AsSpan(32)));
        Assert.Equal(forward, got.Take(40));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (byte)i), got.Take(40).Select(m => m.Data[0]));

        var back = got.Take(40).Reverse().ToArray();
        Assert.Equal(40, p1.TxBurst(0, back));
        Assert.Equal(40, p0.RxBurst(0, got));
        Assert.Equal(back, got.Take(40));

        Assert.Equal(40, p0.GetStats().TxPackets);
        Assert.Equal(40, p0.GetStats().RxPackets);
        Assert.Equal(40, p1.GetStats().TxPackets);
        Assert.Equal(40, p1.GetStats().RxPackets);
        Assert.Equal(0, p0.GetStats().TxBytes); // the ring PMD moves handles and does not count bytes
        Mbuf.FreeBulk(got.AsSpan(0, 40));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Linked_pair_devargs_name_the_shared_rings()
    {
        var (a, b) = RingDriver.LinkedPairDevargs("net_ringA", "net_ringB", 64);

        Assert.Equal("net_ringA,rx=net_ringB_to_net_ringA,tx=net_ringA_to_net_ringB,size=64", a);
        Assert.Equal("net_ringB,rx=net_ringA_to_net_ringB,tx=net_ringB_to_net_ringA,size=64", b);
    }

    [Fact]
    public void Tx_into_a_full_ring_takes_what_fits_and_counts_tx_errors()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var (p0, p1) = RingDriver.CreateLinkedPair(rt, size: 32);
        Start(p0, pool);
        Start(p1, pool);
        var packets = Packets(pool, 40);

        Assert.Equal(32, p0.TxBurst(0, packets));
        Assert.Equal(0, p0.TxBurst(0, packets.AsSpan(32)));

        var s = p0.GetStats();
        Assert.Equal(32, s.TxPackets);
        Assert.Equal(16, s.TxErrors);
        Assert.Contains(new XStat("tx_errors", 16), p0.GetXStats());
        Assert.Equal(40, pool.Audit().InUse); // 32 in the ring, and the 8 not taken still belong to the caller
        Mbuf.FreeBulk(packets.AsSpan(32));

        var got = new Mbuf[64];
        Assert.Equal(32, p1.RxBurst(0, got));
        Assert.Equal(packets.Take(32), got.Take(32));
        Mbuf.FreeBulk(got.AsSpan(0, 32));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Nodeaction_is_refused_as_not_supported()
    {
        using var rt = NewRuntime();

        var ex = Assert.Throws<DevargsException>(() => rt.Vdev.Probe("net_ring0,nodeaction=r1:0:CREATE"));

        Assert.Equal("net_ring0: key 'nodeaction' of net_ring is not supported by Hyperlane: name the shared rings with rx=<name>,tx=<name> instead", ex.Message);
        Assert.Equal("nodeaction", ex.Key);
        Assert.Empty(rt.Ports.All);
    }

    [Fact]
    public void Each_queue_has_its_own_ring()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var (p0, p1) = RingDriver.CreateLinkedPair(rt);
        Start(p0, pool, queues: 2);
        Start(p1, pool, queues: 2);
        var q0 = Packets(pool, 3);
        var q1 = Packets(pool, 5);
        var got = new Mbuf[16];

        Assert.Equal(3, p0.TxBurst(0, q0));
        Assert.Equal(5, p0.TxBurst(1, q1));

        Assert.Equal(5, p1.RxBurst(1, got));
        Assert.Equal(q1, got.Take(5));
        Assert.Equal(3, p1.RxBurst(0, got));
        Assert.Equal(q0, got.Take(3));
        Assert.Equal(0, p1.RxBurst(1, got));
        Assert.Equal([new QueueSnapshot(3, 0, 0, 0, 0), new QueueSnapshot(5, 0, 0, 0, 0)], p1.GetStats().RxQueues);
        Mbuf.FreeBulk(q0);
        Mbuf.FreeBulk(q1);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Closing_both_ports_frees_packets_left_in_the_rings()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var (p0, p1) = RingDriver.CreateLinkedPair(rt);
        Start(p0, pool, queues: 2);
        Start(p1, pool, queues: 2);
        Assert.Equal(100, p0.TxBurst(0, Packets(pool, 100)));
        Assert.Equal(20, p0.TxBurst(1, Packets(pool, 20)));
        Assert.Equal(50, p1.TxBurst(0, Packets(pool, 50)));
        Assert.Equal(170, pool.Audit().InUse);

        // With one port gone, the other still owns the rings it shares: what p0 sent is still there for p1.
        Assert.True(rt.Vdev.Remove("net_ring0"));
        Assert.Equal(170, pool.Audit().InUse);
        var got = new Mbuf[10];
        Assert.Equal(10, p1.RxBurst(0, got));
        Mbuf.FreeBulk(got);

        Assert.True(rt.Vdev.Remove("net_ring1"));
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Disposing_the_runtime_frees_packets_left_in_the_rings()
    {
        using var pool = Pool();
        var rt = NewRuntime();
        try
        {
            var dev = rt.Vdev.Probe("net_ring0").Ports[0];
            Start(dev, pool);
            Assert.Equal(30, dev.TxBurst(0, Packets(pool, 30)));
        }
        finally
        {
            rt.Dispose();
        }

        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Rings_can_be_probed_again_after_removal()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        for (int round = 0; round < 3; round++)
        {
            var (p0, p1) = RingDriver.CreateLinkedPair(rt);
            Start(p0, pool);
            Start(p1, pool);
            var got = new Mbuf[8];
            Assert.Equal(0, p1.RxBurst(0, got)); // a fresh ring: nothing from the last round
            Assert.Equal(4, p0.TxBurst(0, Packets(pool, 4)));
            Assert.True(rt.Vdev.Remove("net_ring0"));
            Assert.True(rt.Vdev.Remove("net_ring1"));
            Assert.True(pool.Audit().IsFull);
        }
    }

    [Fact]
    public void A_stopped_ring_port_takes_nothing()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_ring0").Ports[0];
        Start(dev, pool);
        dev.Stop();
        var packets = Packets(pool, 4);

        Assert.Equal(0, dev.TxBurst(0, packets));
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        Assert.Equal(0, dev.GetStats().TxErrors);
        Mbuf.FreeBulk(packets);
    }

    [Fact]
    public void Ports_sharing_a_ring_must_agree_on_its_size()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var a = rt.Vdev.Probe("net_ring0,tx=shared,rx=a_in,size=64").Ports[0];
        var b = rt.Vdev.Probe("net_ring1,rx=shared,tx=b_out,size=128").Ports[0];
        a.Configure(1, 1);
        a.SetupTxQueue(0, 64);
        b.Configure(1, 1);

        var ex = Assert.Throws<EthDevException>(() => b.SetupRxQueue(0, 64, pool));

        Assert.Equal("port 1 (net_ring1): Rx queue setup: ring 'shared' exists with size 64, not 128 (EINVAL)", ex.Message);
        Assert.Equal(Errno.EINVAL, ex.Error);
    }
}
