using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Port stats of a failsafe port never go backwards: what gone or reconfigured sub-devices counted is kept.</summary>
public class UnitStatsTests
{
    private const string TwoUnits = "net_failsafe0,dev(net_utest0),dev(net_utest1)," + Unit.NoPoll;

    private sealed class Monotonic
    {
        private EthStats last = new();

        public int Samples { get; private set; }

        public EthStats Check(EthStats now)
        {
            Assert.True(now.RxPackets >= last.RxPackets, $"RxPackets went back from {last.RxPackets} to {now.RxPackets}");
            Assert.True(now.TxPackets >= last.TxPackets, $"TxPackets went back from {last.TxPackets} to {now.TxPackets}");
            Assert.True(now.RxBytes >= last.RxBytes, $"RxBytes went back from {last.RxBytes} to {now.RxBytes}");
            Assert.True(now.TxBytes >= last.TxBytes, $"TxBytes went back from {last.TxBytes} to {now.TxBytes}");
            last = now;
            Samples++;
            return now;
        }
    }

    [Fact]
    public void Stats_never_go_backwards_over_twenty_removal_cycles_while_forwarding()
    {
        using var pool = Unit.Pool("cycles", 2048);
        using var rt = Unit.Runtime(out var driver);
        for (int i = 0; i < 2; i++)
        {
            var k = driver.Knobs($"net_utest{i}");
            k.Generate = true;
            k.Tag = (byte)i;
        }

        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);

        long received = 0, sent = 0;
        bool stop = false;
        Exception? lcoreError = null;
        var lcore = new Thread(() =>
        {
            try
            {
                var burst = new Mbuf[32];
                while (!Volatile.Read(ref stop))
                {
                    int n = fs.RxBurst(0, burst);
                    int s = fs.TxBurst(0, burst.AsSpan(0, n));
                    if (s < n)
                    {
                        Mbuf.FreeBulk(burst.AsSpan(s, n - s));
                    }

                    Volatile.Write(ref received, received + n);
                    Volatile.Write(ref sent, sent + s);
                    if (n == 0)
                    {
                        Thread.Yield();
                    }
                }
            }
            catch (Exception ex)
            {
                lcoreError = ex;
            }
        })
        { IsBackground = true, Name = "fs-unit-forward" };
        lcore.Start();

        var mono = new Monotonic();
        try
        {
            Unit.WaitUntil(() => Volatile.Read(ref sent) > 1000, "traffic to flow");
            for (int cycle = 0; cycle < 20; cycle++)
            {
                var old = driver.Latest("net_utest0");
                Assert.Same(old, fs.GetSubDevicePort(0));
                mono.Check(fs.GetStats());
                long sentBefore = Volatile.Read(ref sent);

                old.RaiseRemoval($"cycle {cycle}"); // (it may be back before we look: the teardown is posted at once)
                Unit.WaitUntil(
                    () =>
                    {
                        mono.Check(fs.GetStats());
                        return fs.GetSubDevicePort(0) is { } p && !ReferenceEquals(p, old) && fs.GetSubDeviceState(0) == SubDeviceState.Started;
                    },
                    $"sub-device 0 to come back in cycle {cycle}");
                Assert.Equal(EthDevState.Closed, old.State);
                Unit.WaitUntil(() => Volatile.Read(ref sent) > sentBefore + 100, $"traffic to flow again in cycle {cycle}");
                mono.Check(fs.GetStats());
                Assert.Equal(0, fs.TxSubDeviceIndex);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            Assert.True(lcore.Join(Unit.Timeout));
        }

        Assert.Null(lcoreError);
        fs.Stop();
        var final = mono.Check(fs.GetStats());
        Assert.True(mono.Samples > 60);

        // Every packet is counted exactly once, though 20 attachments of sub-device 0 came and went.
        Assert.Equal(Volatile.Read(ref received), final.RxPackets);
        Assert.Equal(Volatile.Read(ref sent), final.TxPackets);
        Assert.Equal(final.RxPackets * 64, final.RxBytes);
        Assert.Equal(final.TxPackets * 64, final.TxBytes);
        Assert.Equal(20, fs.Removals);
        Assert.Equal(41, fs.TxSwitches); // none -> 0, then 0 -> 1 -> 0 per cycle
        Assert.Equal(21, driver.CreatedCount("net_utest0"));
        Assert.Equal(1, driver.CreatedCount("net_utest1"));
        Assert.Equal(0, pool.DoubleFreeCount);
        Assert.True(pool.Audit().IsFull, pool.Audit().ToString());
    }

    [Fact]
    public void Stats_are_kept_across_a_reconfiguration()
    {
        using var pool = Unit.Pool("reconf");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var packets = Unit.Alloc(pool, 10, 0);
        Assert.Equal(10, fs.TxBurst(0, packets));
        Assert.Equal(10, fs.GetStats().TxPackets);

        fs.Stop();
        Unit.Start(fs, pool, queues: 2); // new queues on the sub-devices: their counters start again
        Assert.Equal(0, driver.Latest("net_utest0").GetStats().TxPackets);
        Assert.Equal(10, fs.GetStats().TxPackets);
        Assert.Equal(640, fs.GetStats().TxBytes);

        packets = Unit.Alloc(pool, 5, 0);
        Assert.Equal(5, fs.TxBurst(1, packets));
        var s = fs.GetStats();
        Assert.Equal(15, s.TxPackets);
        Assert.Equal(10, s.TxQueues[0].Packets);
        Assert.Equal(5, s.TxQueues[1].Packets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Reset_stats_zeroes_the_port_and_a_later_removal_does_not_make_them_negative()
    {
        using var pool = Unit.Pool("reset_stats");
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, TwoUnits);
        Unit.Start(fs, pool);
        var packets = Unit.Alloc(pool, 10, 0);
        Assert.Equal(10, fs.TxBurst(0, packets));

        fs.ResetStats();
        var zero = fs.GetStats();
        Assert.Equal(0, zero.TxPackets);
        Assert.Equal(0, zero.TxBytes);
        Assert.Equal(0, Unit.XStat(fs, "tx_good_packets"));

        var old = driver.Latest("net_utest0");
        old.RaiseRemoval("unplugged");
        Unit.WaitUntil(() => old.State == EthDevState.Closed, "sub-device 0 to be torn down");
        Unit.Barrier(rt);
        Assert.Equal(0, fs.GetStats().TxPackets);
        Assert.All(fs.GetStats().TxQueues, q => Assert.Equal(0, q.Packets));

        packets = Unit.Alloc(pool, 3, 0);
        Assert.Equal(3, fs.TxBurst(0, packets));
        Assert.Equal(3, fs.GetStats().TxPackets);
        Assert.Equal(3, Unit.XStat(fs, "tx_good_packets"));
        Assert.Equal(3, Unit.XStat(fs, "tx_q0_packets"));
    }

    [Fact]
    public void An_adopted_port_reconfigured_by_the_failsafe_port_is_counted_from_its_attachment()
    {
        using var pool = Unit.Pool("baseline");
        using var rt = Unit.Runtime(out _);
        var null1 = rt.Vdev.Probe("net_null1").Ports[0];
        Unit.Start(null1, pool);
        var burst = new Mbuf[20];
        Assert.Equal(20, null1.RxBurst(0, burst));
        Assert.Equal(20, null1.TxBurst(0, burst));

        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        Assert.Equal(0, fs.GetStats().RxPackets);
        Assert.Equal(0, fs.GetStats().TxPackets);
        Unit.Start(fs, pool); // stops and reconfigures the adopted port
        Assert.Equal(0, fs.GetStats().RxPackets);
        Assert.Equal(0, fs.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    /// <summary>
    /// A sub-device port closed outside the failsafe port (removed from the vdev bus, as a hot-unplug would)
    /// keeps what it counted: the failsafe reads the stats the port had when it was closed, so its own stats
    /// never go backwards, and the sub-device is probed again in the same upkeep round.
    /// </summary>
    [Fact]
    public void Stats_do_not_go_backwards_when_a_sub_device_is_closed_outside_the_failsafe_port()
    {
        using var pool = Unit.Pool("closed_outside");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        Unit.Start(fs, pool);
        var burst = new Mbuf[10];
        Assert.Equal(10, fs.RxBurst(0, burst));
        Assert.Equal(10, fs.TxBurst(0, burst));
        var before = fs.GetStats();
        Assert.Equal(10, before.TxPackets);
        Assert.Equal(10, before.RxPackets);

        Assert.True(rt.Vdev.Remove("net_null0"));
        Assert.True(fs.GetStats().TxPackets >= 10, $"TxPackets went back from 10 to {fs.GetStats().TxPackets} when sub-device 0 was closed");
        fs.RunUpkeep();
        Unit.Barrier(rt);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(10, fs.GetStats().TxPackets);
        Assert.Equal(10, fs.GetStats().RxPackets);
    }
}
