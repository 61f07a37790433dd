using System.Runtime.CompilerServices;

namespace Hyperlane.Memory;

/// <summary>
/// The lcore index of the calling thread, used to pick a mempool's per-lcore cache. The runtime
/// sets it on its lcore threads; every other thread is "not an lcore" (-1) and uses the shared ring.
/// </summary>
public static class LcoreId
{
    /// <summary>Upper bound on lcore indices (DPDK's RTE_MAX_LCORE default).</summary>
    public const int MaxLcores = 128;

    [ThreadStatic]
    private static int idPlusOne;

    /// <summary>The calling thread's lcore index, or -1.</summary>
    public static int Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => idPlusOne - 1;
    }

    /// <summary>Marks the calling thread as lcore <paramref name="id"/> (or -1 to clear).</summary>
    public static void SetCurrent(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(id, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, MaxLcores);
        idPlusOne = id + 1;
    }
}
