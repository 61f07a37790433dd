using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

public class PortStatsTests
{
    private static readonly string[] GenericNames =
    [
        "rx_good_packets", "tx_good_packets", "rx_good_bytes", "tx_good_bytes",
        "rx_missed_errors", "rx_errors", "tx_errors", "rx_mbuf_allocation_errors",
    ];

    private static TestEthDev Started(HyperlaneRuntime rt, Mempool pool, int rx, int tx)
    {
        var dev = new TestEthDev("stats0");
        rt.Ports.Register(dev);
        dev.Configure(rx, tx);
        for (int i = 0; i < rx; i++)
        {
            dev.SetupRxQueue(i, 256, pool);
        }

        for (int i = 0; i < tx; i++)
        {
            dev.SetupTxQueue(i, 256);
        }

        dev.Start();
        return dev;
    }

    /// <summary>Receives <paramref name="count"/> packets of <paramref name="length"/> bytes on <paramref name="queue"/> and sends them out of Tx <paramref name="txQueue"/>.</summary>
    private static void Pass(TestEthDev dev, Mempool pool, int queue, int count, int length, int txQueue)
    {
        dev.Rx(queue).Inject(TestPools.Alloc(pool, count, length));
        var burst = new Mbuf[count];
        Assert.Equal(count, dev.RxBurst(queue, burst));
        Assert.Equal(count, dev.TxBurst(txQueue, burst));
        Mbuf.FreeBulk(dev.Tx(txQueue).TakeSent());
    }

    [Fact]
    public void Port_counters_are_the_sums_of_the_queue_counters()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 2, tx: 2);

        Pass(dev, pool, queue: 0, count: 3, length: 100, txQueue: 1);
        Pass(dev, pool, queue: 1, count: 2, length: 60, txQueue: 1);
        Pass(dev, pool, queue: 1, count: 1, length: 1000, txQueue: 0);
        dev.Rx(0).Counters.Errors += 4;
        dev.Rx(1).Counters.NoMbuf += 5;
        dev.Rx(1).Counters.Missed += 6;
        dev.Tx(0).Counters.Errors += 7;

        var s = dev.GetStats();
        Assert.Equal(6, s.RxPackets);
        Assert.Equal(300 + 120 + 1000, s.RxBytes);
        Assert.Equal(6, s.TxPackets);
        Assert.Equal(1420, s.TxBytes);
        Assert.Equal(4, s.RxErrors);
        Assert.Equal(5, s.RxNoMbuf);
        Assert.Equal(6, s.RxMissed);
        Assert.Equal(7, s.TxErrors);
        Assert.Equal([new QueueSnapshot(3, 300, 4, 0, 0), new QueueSnapshot(3, 1120, 0, 5, 6)], s.RxQueues);
        Assert.Equal([new QueueSnapshot(1, 1000, 7, 0, 0), new QueueSnapshot(5, 420, 0, 0, 0)], s.TxQueues);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Driver_level_counters_are_added_to_the_queue_sums()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 1, tx: 1);
        dev.Rx(0).Counters.Missed += 2;
        dev.DeviceMissed = 40;

        Assert.Equal(42, dev.GetStats().RxMissed);
        Assert.Contains(new XStat("test_device_missed", 40), dev.GetXStats());
        dev.ResetStats();
        dev.DeviceMissed = 45;
        Assert.Equal(5, dev.GetStats().RxMissed);
    }

    [Fact]
    public void Reset_zeroes_what_get_stats_shows_while_the_queue_counters_keep_growing()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 2, tx: 1);
        Pass(dev, pool, queue: 0, count: 10, length: 64, txQueue: 0);
        Pass(dev, pool, queue: 1, count: 5, length: 64, txQueue: 0);
        dev.Tx(0).Counters.Errors += 3;

        dev.ResetStats();

        var zero = dev.GetStats();
        Assert.Equal(0, zero.RxPackets + zero.RxBytes + zero.TxPackets + zero.TxBytes + zero.TxErrors + zero.RxErrors + zero.RxMissed + zero.RxNoMbuf);
        Assert.All(zero.RxQueues, q => Assert.Equal(default, q));
        Assert.All(zero.TxQueues, q => Assert.Equal(default, q));
        Assert.All(dev.GetXStats(), x => Assert.Equal(0, x.Value));
        Assert.Equal(10, dev.Rx(0).Counters.Packets); // the queue's own counter was not touched
        Assert.Equal(15, dev.Tx(0).Counters.Packets);

        Pass(dev, pool, queue: 1, count: 4, length: 128, txQueue: 0);
        var after = dev.GetStats();
        Assert.Equal(4, after.RxPackets);
        Assert.Equal(512, after.RxBytes);
        Assert.Equal(new QueueSnapshot(0, 0, 0, 0, 0), after.RxQueues[0]);
        Assert.Equal(new QueueSnapshot(4, 512, 0, 0, 0), after.RxQueues[1]);
        Assert.Equal(4, after.TxPackets);
        Assert.Equal(0, after.TxErrors);
        Assert.Equal(9, dev.Rx(1).Counters.Packets);
    }

    [Fact]
    public void Stats_never_go_backwards_except_to_zero_on_reset()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 1, tx: 1);
        var counters = dev.Rx(0).Counters;
        long last = 0;
        for (int round = 0; round < 50; round++)
        {
            counters.Packets += round % 3;
            counters.Bytes += 64 * (round % 3);
            if (round % 10 == 9)
            {
                dev.ResetStats();
                Assert.Equal(0, dev.GetStats().RxPackets);
                last = 0;
                continue;
            }

            long now = dev.GetStats().RxPackets;
            Assert.True(now >= last, $"round {round}: {now} < {last}");
            Assert.Equal(now * 64, dev.GetStats().RxBytes);
            last = now;
        }
    }

    [Fact]
    public void Xstats_use_dpdk_names_in_a_fixed_order_and_match_get_stats()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 2, tx: 1);
        Pass(dev, pool, queue: 0, count: 3, length: 100, txQueue: 0);
        Pass(dev, pool, queue: 1, count: 2, length: 200, txQueue: 0);
        dev.Rx(1).Counters.Errors += 1;
        dev.Rx(0).Counters.NoMbuf += 8;
        dev.Rx(0).Counters.Missed += 2;
        dev.DeviceMissed = 1;
        dev.Tx(0).Counters.Errors += 9;

        var xstats = dev.GetXStats();
        string[] expectedNames =
        [
            .. GenericNames,
            "rx_q0_packets", "rx_q0_bytes", "rx_q0_errors",
            "rx_q1_packets", "rx_q1_bytes", "rx_q1_errors",
            "tx_q0_packets", "tx_q0_bytes",
            "test_device_missed",
        ];
        Assert.Equal(expectedNames, xstats.Select(x => x.Name));
        Assert.Equal(expectedNames, dev.GetXStatNames());

        var s = dev.GetStats();
        long[] expectedValues =
        [
            s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes, s.RxMissed, s.RxErrors, s.TxErrors, s.RxNoMbuf,
            s.RxQueues[0].Packets, s.RxQueues[0].Bytes, s.RxQueues[0].Errors,
            s.RxQueues[1].Packets, s.RxQueues[1].Bytes, s.RxQueues[1].Errors,
            s.TxQueues[0].Packets, s.TxQueues[0].Bytes,
            1,
        ];
        Assert.Equal(expectedValues, xstats.Select(x => x.Value));
        Assert.Equal([5L, 5, 700, 700, 3, 1, 9, 8], xstats.Take(8).Select(x => x.Value));
    }

    [Fact]
    public void Xstat_names_follow_the_queue_counts_after_reconfigure()
    {
        using var pool = TestPools.Packets("stats");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool, rx: 1, tx: 1);
        Pass(dev, pool, queue: 0, count: 3, length: 100, txQueue: 0);
        dev.Stop();
        dev.Configure(0, 3);
        dev.SetupTxQueue(0, 64);
        dev.SetupTxQueue(1, 64);
        dev.SetupTxQueue(2, 64);

        var names = dev.GetXStatNames();
        Assert.Equal([.. GenericNames, "tx_q0_packets", "tx_q0_bytes", "tx_q1_packets", "tx_q1_bytes", "tx_q2_packets", "tx_q2_bytes", "test_device_missed"], names);
        Assert.All(dev.GetXStats(), x => Assert.Equal(0, x.Value));
    }

    [Fact]
    public void Stats_of_an_unconfigured_port_are_empty_and_zero()
    {
        using var rt = new HyperlaneRuntime();
        var dev = new TestEthDev("stats0");
        rt.Ports.Register(dev);

        var s = dev.GetStats();
        Assert.Empty(s.RxQueues);
        Assert.Empty(s.TxQueues);
        Assert.Equal([.. GenericNames, "test_device_missed"], dev.GetXStatNames());
        dev.ResetStats();
    }
}
