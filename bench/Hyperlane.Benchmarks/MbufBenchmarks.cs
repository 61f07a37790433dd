using BenchmarkDotNet.Attributes;
using Hyperlane.Memory;

namespace Hyperlane.Benchmarks;

/// <summary>
/// pool.AllocBulk(32) + Mbuf.FreeBulk(32) on a packet pool with a 512-mbuf lcore cache, on lcore 0:
/// rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk (bench/dpdk/mpbench.c, test "mbuf"). One
/// operation = one mbuf allocated (header reset) and freed.
/// </summary>
public class MbufBenchmarks
{
    private readonly Mbuf[] mbufs = new Mbuf[BenchSizes.Burst];
    private Mempool? pool;
    private long failures;

    [GlobalSetup]
    public void Setup()
    {
        LcoreGuard.MarkSetupThread();
        pool = Mempool.CreatePacketPool("hlb_mbufpool", BenchSizes.PoolSize, BenchSizes.CacheSize);
        BenchNotes.Set("mbuf.backing", pool.Region.Backing + " (" + pool.Region.Reason + ")");
        BenchNotes.Set("mbuf.pool", pool.ToString());

        JitWarmup.Run(MbufAllocFreeBulk32);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (pool is null)
        {
            return;
        }

        var audit = pool.Audit();
        BenchNotes.Set("mbuf.audit", audit.ToString());
        BenchNotes.Set("mbuf.allocFailures", failures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        LcoreGuard.Report("mbuf");
        if (audit.InCaches == 0)
        {
            throw new InvalidOperationException("mbuf benchmark never used an lcore cache: the thread was not marked as an lcore");
        }

        if (!audit.IsFull)
        {
            throw new InvalidOperationException("mbuf benchmark leaked: " + audit);
        }

        pool.Dispose();
        pool = null;
    }

    [Benchmark(OperationsPerInvoke = BenchSizes.ObjectsPerInvoke, Description = "Mbuf AllocBulk+FreeBulk 32, cache 512")]
    public int MbufAllocFreeBulk32()
    {
        LcoreGuard.Ensure();
        Mempool p = pool!;
        Span<Mbuf> span = mbufs;
        int n = 0;
        for (int i = 0; i < BenchSizes.Rounds; i++)
        {
            int got = p.AllocBulk(span);
            if (got == 0)
            {
                failures++;
                continue;
            }

            Mbuf.FreeBulk(span);
            n += got;
        }

        return n;
    }
}
