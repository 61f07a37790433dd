using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// Rx drains every started sub-device fairly; Tx goes through the preferred one. Each net_ring sub-device is
/// linked to an application-side ring port (its peer) that puts packets on its "wire" and sees what it sends.
/// </summary>
public class UnitRxFairnessTests
{
    /// <summary>Failsafe over <paramref name="count"/> ring sub-devices net_ring{i}, each linked to an application port net_ring{10+i}.</summary>
    private static (FailsafeEthDev Fs, EthDev[] Peers) Build(HyperlaneRuntime rt, Mempool pool, int count)
    {
        string subs = string.Join(',', Enumerable.Range(0, count).Select(i => $"dev(net_ring{i},rx=w{i},tx=r{i})"));
        var fs = Unit.Probe(rt, $"net_failsafe0,{subs},{Unit.NoPoll}");
        var peers = new EthDev[count];
        for (int i = 0; i < count; i++)
        {
            peers[i] = rt.Vdev.Probe($"net_ring{10 + i},rx=r{i},tx=w{i}").Ports[0];
            Unit.Start(peers[i], pool);
        }

        Unit.Start(fs, pool);
        return (fs, peers);
    }

    /// <summary>Puts <paramref name="count"/> packets tagged <paramref name="tag"/> on the wire of the peer's sub-device.</summary>
    private static void Inject(EthDev peer, Mempool pool, int count, byte tag)
    {
        var packets = Unit.Alloc(pool, count, tag);
        Assert.Equal(count, peer.TxBurst(0, packets));
    }

    private static int[] CountTags(ReadOnlySpan<Mbuf> packets, int tags)
    {
        var counts = new int[tags];
        foreach (var m in packets)
        {
            counts[m.Data[0]]++;
        }

        return counts;
    }

    [Fact]
    public void With_both_sub_devices_full_every_burst_has_packets_from_both()
    {
        using var pool = Unit.Pool("fair2", 2048);
        using var rt = Unit.Runtime(out _);
        var (fs, peers) = Build(rt, pool, 2);
        Inject(peers[0], pool, 512, 0);
        Inject(peers[1], pool, 512, 1);

        var burst = new Mbuf[32];
        int[] total = new int[2];
        for (int b = 0; b < 32; b++)
        {
            Assert.Equal(32, fs.RxBurst(0, burst));
            var counts = CountTags(burst, 2);
            Assert.Equal([16, 16], counts); // an equal share each: neither starves
            Assert.All(burst, m => Assert.Equal(fs.PortId, m.Port));
            total[0] += counts[0];
            total[1] += counts[1];
            Mbuf.FreeBulk(burst);
        }

        Assert.Equal([512, 512], total);
        Assert.Equal(0, fs.RxBurst(0, burst));
        Assert.Equal(1024, fs.GetStats().RxPackets);
        Assert.Equal(512, fs.GetSubDevicePort(0)!.GetStats().RxPackets);
        Assert.Equal(512, fs.GetSubDevicePort(1)!.GetStats().RxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void The_room_a_quiet_sub_device_leaves_goes_to_the_busy_one()
    {
        using var pool = Unit.Pool("fair_room", 2048);
        using var rt = Unit.Runtime(out _);
        var (fs, peers) = Build(rt, pool, 2);
        Inject(peers[1], pool, 100, 1);
        Inject(peers[0], pool, 5, 0);

        var burst = new Mbuf[32];
        Assert.Equal(32, fs.RxBurst(0, burst));
        Assert.Equal([5, 27], CountTags(burst, 2));
        Mbuf.FreeBulk(burst);
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(32, fs.RxBurst(0, burst));
            Assert.Equal([0, 32], CountTags(burst, 2));
            Mbuf.FreeBulk(burst);
        }

        Assert.Equal(9, fs.RxBurst(0, burst));
        Mbuf.FreeBulk(burst.AsSpan(0, 9));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Three_full_sub_devices_share_bursts_equally_as_the_first_one_polled_rotates()
    {
        using var pool = Unit.Pool("fair3", 2048);
        using var rt = Unit.Runtime(out _);
        var (fs, peers) = Build(rt, pool, 3);
        for (int i = 0; i < 3; i++)
        {
            Inject(peers[i], pool, 400, (byte)i);
        }

        var burst = new Mbuf[32];
        int[] total = new int[3];
        for (int b = 0; b < 30; b++)
        {
            Assert.Equal(32, fs.RxBurst(0, burst));
            var counts = CountTags(burst, 3);
            Assert.All(counts, c => Assert.InRange(c, 10, 12));
            for (int i = 0; i < 3; i++)
            {
                total[i] += counts[i];
            }

            Mbuf.FreeBulk(burst);
        }

        Assert.Equal([320, 320, 320], total);
        int n;
        while ((n = fs.RxBurst(0, burst)) > 0)
        {
            Mbuf.FreeBulk(burst.AsSpan(0, n));
        }

        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void One_packet_bursts_alternate_between_the_sub_devices()
    {
        using var pool = Unit.Pool("fair1", 2048);
        using var rt = Unit.Runtime(out _);
        var (fs, peers) = Build(rt, pool, 2);
        Inject(peers[0], pool, 8, 0);
        Inject(peers[1], pool, 8, 1);

        var one = new Mbuf[1];
        var seen = new List<int>();
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(1, fs.RxBurst(0, one));
            seen.Add(one[0].Data[0]);
            one[0].Free();
        }

        Assert.Equal(8, seen.Count(t => t == 0));
        Assert.Equal(8, seen.Count(t => t == 1));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Tx_goes_through_the_preferred_started_sub_device_only()
    {
        using var pool = Unit.Pool("tx_pref", 2048);
        using var rt = Unit.Runtime(out _);
        var (fs, peers) = Build(rt, pool, 2);
        var packets = Unit.Alloc(pool, 20, 9);
        Assert.Equal(20, fs.TxBurst(0, packets));

        var burst = new Mbuf[32];
        Assert.Equal(20, peers[0].RxBurst(0, burst));
        Assert.Equal(packets, burst.Take(20));
        Mbuf.FreeBulk(burst.AsSpan(0, 20));
        Assert.Equal(0, peers[1].RxBurst(0, burst));
        Assert.Equal(20, fs.GetStats().TxPackets);
        Assert.Equal(20, fs.GetSubDevicePort(0)!.GetStats().TxPackets);
        Assert.Equal(0, fs.GetSubDevicePort(1)!.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Rx_and_tx_work_on_every_queue()
    {
        using var pool = Unit.Pool("queues", 2048);
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),dev(net_null1),{Unit.NoPoll}");
        Unit.Start(fs, pool, queues: 3);
        var burst = new Mbuf[16];
        for (int q = 0; q < 3; q++)
        {
            Assert.Equal(16, fs.RxBurst(q, burst));
            Assert.All(burst, m => Assert.Equal(fs.PortId, m.Port));
            Assert.Equal(16, fs.TxBurst(q, burst));
        }

        Assert.Equal(0, fs.RxBurst(3, burst)); // no such queue
        var s = fs.GetStats();
        Assert.Equal(3, s.RxQueues.Count);
        Assert.All(s.RxQueues, q => Assert.Equal(16, q.Packets));
        Assert.All(s.TxQueues, q => Assert.Equal(16, q.Packets));
        Assert.Equal(0, fs.GetSubDevicePort(1)!.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull);
    }
}
