using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Net.Null;
using Hyperlane.Net.Ring;

namespace Hyperlane.Net.Tests;

public class NullPortTests
{
    private static HyperlaneRuntime NewRuntime() => new(new HyperlaneRuntimeOptions { Drivers = [new NullDriver(), new RingDriver()] });

    private static Mempool Pool(int count = 256, int dataRoomSize = Mempool.DefaultDataRoomSize) =>
        Mempool.CreatePacketPool($"null_{Guid.NewGuid():N}", count, cacheSize: 0, dataRoomSize: dataRoomSize);

    private static EthDev Started(HyperlaneRuntime rt, string devargs, Mempool pool, int queues = 1)
    {
        var dev = rt.Vdev.Probe(devargs).Ports[0];
        dev.Configure(queues, queues);
        for (int q = 0; q < queues; q++)
        {
            dev.SetupRxQueue(q, 512, pool);
            dev.SetupTxQueue(q, 512);
        }

        dev.Start();
        return dev;
    }

    [Fact]
    public void Rx_returns_full_bursts_of_size_byte_packets_stamped_with_the_port_id()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        rt.Vdev.Probe("net_null9"); // so the port under test is not port 0
        var dev = Started(rt, "net_null0,size=128", pool);
        Assert.Equal(1, dev.PortId);
        var burst = new Mbuf[32];

        Assert.Equal(32, dev.RxBurst(0, burst));

        Assert.All(burst, m =>
        {
            Assert.False(m.IsNull);
            Assert.Equal(128, m.DataLength);
            Assert.Equal(128u, m.PacketLength);
            Assert.Equal(1, m.SegmentCount);
            Assert.Equal(1, m.Port);
            Assert.Same(pool, m.Pool);
        });
        Assert.Equal(32, burst.Distinct().Count());
        Assert.Equal(32, pool.Audit().InUse);
        var s = dev.GetStats();
        Assert.Equal(32, s.RxPackets);
        Assert.Equal(32 * 128, s.RxBytes);
        Mbuf.FreeBulk(burst);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Rx_fills_as_many_as_asked_for()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0", pool);
        var burst = new Mbuf[7];

        Assert.Equal(7, dev.RxBurst(0, burst));
        Assert.All(burst, m => Assert.Equal(64u, m.PacketLength)); // the default size
        Assert.Equal(0, dev.RxBurst(0, Span<Mbuf>.Empty));
        Mbuf.FreeBulk(burst);
    }

    [Fact]
    public void Copy_fills_the_packet_data()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0,size=200,copy=1", pool);
        var burst = new Mbuf[4];

        Assert.Equal(4, dev.RxBurst(0, burst));

        foreach (var m in burst)
        {
            var data = m.Data;
            Assert.Equal(200, data.Length);
            for (int i = 0; i < data.Length; i++)
            {
                Assert.Equal((byte)i, data[i]);
            }
        }

        Assert.True(((NullEthDev)dev).Copy);
        Assert.Equal(4, dev.TxBurst(0, burst)); // Tx with copy reads them, then frees
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void No_rx_returns_nothing()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0,no-rx=1", pool);

        Assert.Equal(0, dev.RxBurst(0, new Mbuf[32]));
        Assert.True(((NullEthDev)dev).NoRx);
        Assert.Equal(0, dev.GetStats().RxPackets);
        Assert.Equal(0, dev.GetStats().RxNoMbuf);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_size_larger_than_the_mbuf_data_room_fails_at_rx_queue_setup()
    {
        using var pool = Pool(dataRoomSize: MbufHeader.DefaultHeadroom + 256);
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0,size=257").Ports[0];
        dev.Configure(1, 1);

        var ex = Assert.Throws<EthDevException>(() => dev.SetupRxQueue(0, 512, pool));

        Assert.Equal($"port 0 (net_null0): Rx queue setup: size=257 does not fit one mbuf of mempool '{pool.Name}' (256 bytes of data room after headroom) (EINVAL)", ex.Message);
        Assert.Equal(Errno.EINVAL, ex.Error);
        var exact = rt.Vdev.Probe("net_null1,size=256").Ports[0];
        exact.Configure(1, 0);
        exact.SetupRxQueue(0, 512, pool);
        exact.Start();
        var burst = new Mbuf[2];
        Assert.Equal(2, exact.RxBurst(0, burst));
        Assert.Equal(0, burst[0].Tailroom);
        Mbuf.FreeBulk(burst);
    }

    [Fact]
    public void Rx_from_an_exhausted_pool_returns_zero_and_counts_rx_nombuf()
    {
        using var pool = Pool(count: 64);
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0", pool);
        var a = new Mbuf[32];
        var b = new Mbuf[32];
        var c = new Mbuf[32];

        Assert.Equal(32, dev.RxBurst(0, a));
        Assert.Equal(32, dev.RxBurst(0, b));
        Assert.Equal(0, dev.RxBurst(0, c));
        Assert.Equal(0, dev.RxBurst(0, c.AsSpan(0, 1)));

        var s = dev.GetStats();
        Assert.Equal(64, s.RxPackets);
        Assert.Equal(33, s.RxNoMbuf);
        Assert.Contains(new XStat("rx_mbuf_allocation_errors", 33), dev.GetXStats());
        Mbuf.FreeBulk(a);
        Assert.Equal(32, dev.RxBurst(0, c));
        Mbuf.FreeBulk(b);
        Mbuf.FreeBulk(c);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Tx_frees_the_packets_and_counts_their_bytes()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0", pool);
        var packets = new Mbuf[10];
        for (int i = 0; i < packets.Length; i++)
        {
            packets[i] = pool.Alloc();
            Assert.True(packets[i].TryAppend(100 + i, out _));
        }

        var head = pool.Alloc(); // a two-segment packet: both segments go back
        var tail = pool.Alloc();
        Assert.True(head.TryAppend(1000, out _));
        Assert.True(tail.TryAppend(500, out _));
        Assert.True(head.TryChain(tail));
        Assert.Equal(12, pool.Audit().InUse);

        Assert.Equal(10, dev.TxBurst(0, packets));
        Assert.Equal(1, dev.TxBurst(0, [head]));

        Assert.True(pool.Audit().IsFull);
        var s = dev.GetStats();
        Assert.Equal(11, s.TxPackets);
        Assert.Equal(1045 + 1500, s.TxBytes);
        Assert.Equal(0, s.TxErrors);
    }

    [Fact]
    public void Every_queue_of_a_multi_queue_port_works()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = Started(rt, "net_null0", pool, queues: 4);
        var burst = new Mbuf[8];

        for (int q = 0; q < 4; q++)
        {
            Assert.Equal(8, dev.RxBurst(q, burst));
            Assert.Equal(8, dev.TxBurst(q, burst));
        }

        var s = dev.GetStats();
        Assert.All(s.RxQueues, q => Assert.Equal(8, q.Packets));
        Assert.All(s.TxQueues, q => Assert.Equal(8 * 64, q.Bytes));
        Assert.Equal(0, dev.RxBurst(4, burst));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void A_null_port_made_directly_validates_its_size()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NullEthDev("net_null0", packetSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NullEthDev("net_null0", packetSize: 65536));
        var dev = new NullEthDev("net_null0", packetSize: 65535, copy: true, noRx: true);
        Assert.Equal(65535, dev.PacketSize);
        Assert.Equal(NullDriver.DriverName, dev.DriverName);
    }
}
