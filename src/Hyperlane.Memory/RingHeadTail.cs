using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// One side (producer or consumer) of a <see cref="Ring{T}"/>: DPDK's <c>struct rte_ring_headtail</c>.
/// It lives in native memory, alone on its cache line (see <see cref="Ring{T}"/>'s control block),
/// so that the producer side and the consumer side never share a line.
/// </summary>
/// <remarks>
/// Both indices are free-running 32-bit counters; the slot of index <c>i</c> is <c>i &amp; mask</c>.
/// <see cref="Head"/> is where the next reservation starts; <see cref="Tail"/> is where the
/// side's completed work ends and is what the other side reads.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct RingHeadTail
{
    /// <summary>Next index to reserve on this side (moved by CAS when multi-threaded).</summary>
    public uint Head;

    /// <summary>End of the work this side has finished; published with release semantics.</summary>
    public uint Tail;
}
