using BenchmarkDotNet.Attributes;
using Hyperlane.Memory;

namespace Hyperlane.Benchmarks;

/// <summary>
/// Mempool GetBulk 32 + PutBulk 32 with a 512-object lcore cache, on a thread marked as lcore 0:
/// the cache path of rte_mempool_get_bulk / rte_mempool_put_bulk (bench/dpdk/mpbench.c, test
/// "mempool"). One operation = one object taken and returned.
/// </summary>
public class MempoolBenchmarks
{
    private readonly nint[] objs = new nint[BenchSizes.Burst];
    private Mempool? pool;
    private long failures;

    [GlobalSetup]
    public void Setup()
    {
        LcoreGuard.MarkSetupThread();
        pool = Mempool.Create("hlb_mempool", BenchSizes.PoolSize, BenchSizes.ElementSize, BenchSizes.CacheSize);
        BenchNotes.Set("mempool.backing", pool.Region.Backing + " (" + pool.Region.Reason + ")");
        BenchNotes.Set("mempool.pool", pool.ToString());

        JitWarmup.Run(MempoolGetPutBulk32);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (pool is null)
        {
            return;
        }

        var audit = pool.Audit();
        BenchNotes.Set("mempool.audit", audit.ToString());
        BenchNotes.Set("mempool.getFailures", failures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        LcoreGuard.Report("mempool");
        if (audit.InCaches == 0)
        {
            throw new InvalidOperationException("mempool benchmark never used an lcore cache: the thread was not marked as an lcore");
        }

        pool.Dispose();
        pool = null;
    }

    [Benchmark(OperationsPerInvoke = BenchSizes.ObjectsPerInvoke, Description = "Mempool get+put bulk 32, cache 512")]
    public int MempoolGetPutBulk32()
    {
        LcoreGuard.Ensure();
        Mempool p = pool!;
        Span<nint> span = objs;
        int n = 0;
        for (int i = 0; i < BenchSizes.Rounds; i++)
        {
            int got = p.GetBulk(span);
            if (got == 0)
            {
                failures++;
                continue;
            }

            p.PutBulk(span);
            n += got;
        }

        return n;
    }
}
