using Hyperlane.Testing;

namespace Hyperlane.Memory.Tests;

/// <summary>The data path of <see cref="Ring{T}"/> allocates nothing.</summary>
public class RingAllocationTests
{
    [Theory]
    [MemberData(nameof(RingSemanticsTests.Modes), MemberType = typeof(RingSemanticsTests))]
    public void A_million_burst_operations_allocate_nothing(RingFlags flags)
    {
        using var ring = new Ring<ulong>("alloc", 100, flags);
        using var ring16 = new Ring<RingTestItem>("alloc16", 100, flags);
        var src = new ulong[37];
        var dst = new ulong[37];
        var src16 = new RingTestItem[5];
        var dst16 = new RingTestItem[5];

        Exercise(ring, ring16, src, dst, src16, dst16, 100_000); // warm-up: JIT, tiering
        long before = ThreadAllocations.Baseline();
        Exercise(ring, ring16, src, dst, src16, dst16, 1_000_000);
        long allocated = ThreadAllocations.Since(before);

        Assert.Equal(0, allocated);
        Assert.True(ring.IsEmpty);
        Assert.True(ring16.IsEmpty);
    }

    /// <summary><paramref name="operations"/> ring operations: bursts, bulks and single items, 8-byte and 16-byte items.</summary>
    private static void Exercise(
        Ring<ulong> ring, Ring<RingTestItem> ring16, ulong[] src, ulong[] dst, RingTestItem[] src16, RingTestItem[] dst16, int operations)
    {
        for (int i = 0; i < operations; i += 10)
        {
            ring.EnqueueBurst(src);
            ring.EnqueueBurst(src);
            ring.EnqueueBurst(src);   // partial: only 26 of 37 fit
            ring.DequeueBurst(dst);
            ring.DequeueBurst(dst);
            ring.DequeueBurst(dst);   // the last 26
            ring16.EnqueueBulk(src16);
            ring16.DequeueBulk(dst16);
            ring.TryEnqueue((ulong)i);
            ring.TryDequeue(out _);
        }
    }
}
