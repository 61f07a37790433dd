using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The driver's view of a split virtqueue it laid out in its own shared memory (virtio 1.2 §2.7: descriptor table,
/// available ring, used ring). The driver writes the first two and reads the third, which the backend writes: each
/// used field is read with one load into the caller's local. Every index is reduced modulo the ring size here.
/// </summary>
/// <remarks>
/// Ordering (§2.7.13 "Supplying Buffers to The Device", §2.7.14): <see cref="PublishAvailIdx"/> is a release store
/// (descriptors and ring entries written before it are visible first); <see cref="ReadUsedIdx"/> an acquire load
/// (used elements read after it are those the device wrote before publishing the index).
/// </remarks>
internal readonly unsafe struct SplitDriverRing
{
    private readonly byte* _desc;
    private readonly byte* _avail;
    private readonly byte* _used;
    private readonly uint _mask;

    /// <summary>A view over rings of <paramref name="size"/> entries (a power of two, checked by the caller).</summary>
    public SplitDriverRing(nint desc, nint avail, nint used, uint size)
    {
        _desc = (byte*)desc;
        _avail = (byte*)avail;
        _used = (byte*)used;
        _mask = size - 1;
    }

    /// <summary>Writes descriptor <paramref name="index"/> in one 16-byte store: addr, then len | flags &lt;&lt; 32 | next &lt;&lt; 48.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteDesc(ushort index, Vector128<ulong> desc) =>
        Unsafe.WriteUnaligned(_desc + ((index & _mask) * (uint)VirtqDesc.Size), desc);

    /// <summary>avail-&gt;flags (VIRTQ_AVAIL_F_NO_INTERRUPT).</summary>
    public void WriteAvailFlags(ushort flags) => Volatile.Write(ref *(ushort*)_avail, flags);

    /// <summary>avail-&gt;ring[<paramref name="index"/> mod size] = <paramref name="head"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteAvailEntry(ushort index, ushort head) =>
        *(ushort*)(_avail + SplitVirtqueueLayout.AvailRingEntryOffset(index & _mask)) = head;

    /// <summary>Publishes avail-&gt;idx with release ordering.</summary>
    public void PublishAvailIdx(ushort idx) => Volatile.Write(ref *(ushort*)(_avail + 2), idx);

    /// <summary>used-&gt;flags (VIRTQ_USED_F_NO_NOTIFY), one load.</summary>
    public ushort ReadUsedFlags() => Volatile.Read(ref *(ushort*)_used);

    /// <summary>used-&gt;idx, one acquire load.</summary>
    public ushort ReadUsedIdx() => Volatile.Read(ref *(ushort*)(_used + 2));

    /// <summary>used-&gt;ring[<paramref name="index"/> mod size] as one 8-byte load: id in bits 0-31, len in bits 32-63.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadUsedElem(ushort index) =>
        Unsafe.ReadUnaligned<ulong>(_used + SplitVirtqueueLayout.UsedRingEntryOffset(index & _mask));
}
