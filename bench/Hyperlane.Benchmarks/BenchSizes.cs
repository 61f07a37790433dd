namespace Hyperlane.Benchmarks;

/// <summary>Sizes shared by the micro benchmarks and their DPDK twins in bench/dpdk/mpbench.c.</summary>
public static class BenchSizes
{
    /// <summary>Objects per bulk call (DPDK's MAX_PKT_BURST).</summary>
    public const int Burst = 32;

    /// <summary>Bulk round trips per invocation.</summary>
    public const int Rounds = 64;

    /// <summary>Objects per invocation: every figure is per object.</summary>
    public const int ObjectsPerInvoke = Burst * Rounds;

    /// <summary>Ring size of ring_perf_autotest (RING_SIZE).</summary>
    public const int RingCapacity = 4096;

    /// <summary>Objects in the mempool and the packet pool (mpbench uses the same).</summary>
    public const int PoolSize = 16384;

    /// <summary>Per-lcore cache (RTE_MEMPOOL_CACHE_MAX_SIZE).</summary>
    public const int CacheSize = 512;

    /// <summary>Element size of the plain mempool (mempool_perf_autotest's MEMPOOL_ELT_SIZE).</summary>
    public const int ElementSize = 2048;
}
