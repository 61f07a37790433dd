namespace Hyperlane.Testing;

/// <summary>Counts the managed bytes the current thread allocates, for the zero-allocation tests.</summary>
/// <remarks>
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> also grows by the unused rest of the thread's allocation context
/// when a GC, started by any thread, retires that context. Test classes run in parallel and allocate, so a count
/// taken on a thread that allocated during setup can report a few KiB over code that allocated nothing (CI saw
/// 4736 bytes over the dirty log's marking loop). <see cref="Baseline"/> retires the context first: a thread that
/// allocates nothing after it has nothing left for another thread's GC to add.
/// </remarks>
public static class ThreadAllocations
{
    /// <summary>
    /// Collects (retiring every thread's allocation context) and returns the current thread's count. Call it right
    /// before the measured code, after the warm-up, with no allocation in between.
    /// </summary>
    public static long Baseline()
    {
        GC.Collect(0);
        return GC.GetAllocatedBytesForCurrentThread();
    }

    /// <summary>Bytes the current thread allocated since <paramref name="baseline"/>.</summary>
    public static long Since(long baseline) => GC.GetAllocatedBytesForCurrentThread() - baseline;
}
