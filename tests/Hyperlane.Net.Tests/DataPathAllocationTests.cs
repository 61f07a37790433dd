using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.Null;
using Hyperlane.Net.Ring;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tests;

/// <summary>DESIGN.md: nothing a burst reaches allocates. Proven over 10^6 forwarded packets on an lcore thread.</summary>
public class DataPathAllocationTests
{
    private const long Packets = 1_000_000;
    private const long WarmUp = 10_000;
    private const int Burst = 32;
    private const int InFlight = 512;

    private static void Start(EthDev dev, Mempool pool)
    {
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 1024, pool);
        dev.SetupTxQueue(0, 1024);
        dev.Start();
    }

    /// <summary>Runs <paramref name="work"/> on a thread marked as lcore 0 (so mempool caches are used).</summary>
    private static T OnLcore<T>(Func<T> work) => LcoreThread.Run(work, "alloc-test-lcore-0");

    /// <summary>Receives a burst on <paramref name="rx"/> and sends it out of <paramref name="tx"/>, freeing what Tx did not take.</summary>
    private static int Step(EthDev rx, EthDev tx, Mbuf[] burst)
    {
        int n = rx.RxBurst(0, burst);
        if (n == 0)
        {
            return 0;
        }

        int sent = tx.TxBurst(0, burst.AsSpan(0, n));
        if (sent < n)
        {
            Mbuf.FreeBulk(burst.AsSpan(sent, n - sent));
        }

        return sent;
    }

    /// <summary>io forwarding between a linked pair: what arrives on one port leaves by the other. Returns the packets forwarded.</summary>
    private static long ForwardPair(EthDev p0, EthDev p1, Mbuf[] burst, long target)
    {
        long done = 0;
        int idle = 0;
        while (done < target && idle < 1_000)
        {
            int n = Step(p1, p0, burst) + Step(p0, p1, burst);
            done += n;
            idle = n == 0 ? idle + 1 : 0;
        }

        return done;
    }

    private static long ForwardNull(EthDev rx, EthDev tx, Mbuf[] burst, long target)
    {
        long done = 0;
        int idle = 0;
        while (done < target && idle < 1_000)
        {
            int n = Step(rx, tx, burst);
            done += n;
            idle = n == 0 ? idle + 1 : 0;
        }

        return done;
    }

    [Fact]
    public void Io_forwarding_over_a_ring_pair_allocates_nothing()
    {
        using var pool = Mempool.CreatePacketPool($"alloc_ring_{Guid.NewGuid():N}", 2048, cacheSize: 256);
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new RingDriver()] });
        var (p0, p1) = RingDriver.CreateLinkedPair(rt);
        Start(p0, pool);
        Start(p1, pool);

        var (warm, forwarded, allocated, drained) = OnLcore(() =>
        {
            var inject = new Mbuf[InFlight];
            Assert.Equal(InFlight, pool.AllocBulk(inject));
            foreach (var m in inject)
            {
                Assert.True(m.TryAppend(64, out _));
            }

            Assert.Equal(InFlight, p0.TxBurst(0, inject));
            var burst = new Mbuf[Burst];

            long warm = ForwardPair(p0, p1, burst, WarmUp);
            long before = ThreadAllocations.Baseline();
            long forwarded = ForwardPair(p0, p1, burst, Packets);
            long allocated = ThreadAllocations.Since(before);

            long drained = 0;
            while (true)
            {
                int n = p0.RxBurst(0, burst);
                if (n == 0)
                {
                    n = p1.RxBurst(0, burst);
                }

                if (n == 0)
                {
                    break;
                }

                Mbuf.FreeBulk(burst.AsSpan(0, n));
                drained += n;
            }

            return (warm, forwarded, allocated, drained);
        });

        Assert.True(warm >= WarmUp, $"warm-up forwarded only {warm}");
        Assert.True(forwarded >= Packets, $"forwarded only {forwarded}");
        Assert.Equal(0, allocated);
        Assert.Equal(InFlight, drained);
        Assert.True(pool.Audit().IsFull, pool.Audit().ToString());
        Assert.Equal(0, pool.DoubleFreeCount);
        Assert.Equal(p0.GetStats().TxPackets, p1.GetStats().RxPackets);
        Assert.Equal(0, p0.GetStats().TxErrors + p1.GetStats().TxErrors);
    }

    [Fact]
    public void Io_forwarding_from_null_to_null_allocates_nothing()
    {
        using var pool = Mempool.CreatePacketPool($"alloc_null_{Guid.NewGuid():N}", 2048, cacheSize: 256);
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new NullDriver()] });
        var null0 = rt.Vdev.Probe("net_null0").Ports[0];
        var null1 = rt.Vdev.Probe("net_null1").Ports[0];
        Start(null0, pool);
        Start(null1, pool);

        var (warm, forwarded, allocated) = OnLcore(() =>
        {
            var burst = new Mbuf[Burst];
            long warm = ForwardNull(null0, null1, burst, WarmUp);
            long before = ThreadAllocations.Baseline();
            long forwarded = ForwardNull(null0, null1, burst, Packets);
            long allocated = ThreadAllocations.Since(before);
            return (warm, forwarded, allocated);
        });

        Assert.True(warm >= WarmUp, $"warm-up forwarded only {warm}");
        Assert.True(forwarded >= Packets, $"forwarded only {forwarded}");
        Assert.Equal(0, allocated);
        Assert.True(pool.Audit().IsFull, pool.Audit().ToString());
        Assert.Equal(warm + forwarded, null1.GetStats().TxPackets);
        Assert.Equal((warm + forwarded) * 64, null1.GetStats().TxBytes);
        Assert.Equal(0, null0.GetStats().RxNoMbuf);
    }
}
