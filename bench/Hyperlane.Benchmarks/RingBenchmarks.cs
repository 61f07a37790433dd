using BenchmarkDotNet.Attributes;
using Hyperlane.Memory;

namespace Hyperlane.Benchmarks;

/// <summary>
/// Ring&lt;nint&gt; bulk 32 enqueue + dequeue on one thread: DPDK's ring_perf_autotest
/// "Testing bulk enq/deq" (single lcore). One operation = one object enqueued and dequeued; DPDK
/// prints cycles per (32 enqueued + 32 dequeued), so run.sh divides its figure by 32.
/// </summary>
public class RingBenchmarks
{
    private readonly nint[] burst = new nint[BenchSizes.Burst];
    private Ring<nint>? spsc;
    private Ring<nint>? mpmc;

    [GlobalSetup]
    public void Setup()
    {
        spsc = new Ring<nint>("hlb_ring_spsc", BenchSizes.RingCapacity, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        mpmc = new Ring<nint>("hlb_ring_mpmc", BenchSizes.RingCapacity, RingFlags.None);
        for (int i = 0; i < burst.Length; i++)
        {
            burst[i] = (nint)(0x1000 + (i * 64));
        }

        JitWarmup.Run(RingSpScBulk32, RingMpMcBulk32);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        spsc?.Dispose();
        mpmc?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = BenchSizes.ObjectsPerInvoke, Description = "Ring SP/SC bulk 32 enq+deq")]
    public int RingSpScBulk32() => RoundTrips(spsc!);

    [Benchmark(OperationsPerInvoke = BenchSizes.ObjectsPerInvoke, Description = "Ring MP/MC bulk 32 enq+deq")]
    public int RingMpMcBulk32() => RoundTrips(mpmc!);

    private int RoundTrips(Ring<nint> ring)
    {
        Span<nint> objs = burst;
        int moved = 0;
        for (int i = 0; i < BenchSizes.Rounds; i++)
        {
            moved += ring.EnqueueBulk(objs);
            moved += ring.DequeueBulk(objs);
        }

        return moved;
    }
}
