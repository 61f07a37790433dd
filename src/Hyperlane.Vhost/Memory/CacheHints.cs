using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Hyperlane.Vhost.Memory;

/// <summary>
/// Prefetch hints for the data paths (DPDK's rte_prefetch0). A hint never faults and changes nothing a program can
/// observe but time, so it may be given for an address read from shared memory before that address is validated.
/// </summary>
internal static unsafe class CacheHints
{
    /// <summary>Asks for the cache line holding <paramref name="address"/> (all cache levels); a no-op where x86 SSE is missing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(nint address)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0((void*)address);
        }
    }
}
