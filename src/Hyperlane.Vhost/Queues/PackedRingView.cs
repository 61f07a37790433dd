using System.Diagnostics;
using System.Runtime.CompilerServices;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// The descriptor ring of a packed virtqueue in guest memory (virtio 1.2 §2.8 "Packed Virtqueues", §2.8.13
/// "The Virtqueue Descriptor Format"): <see cref="Size"/> 16-byte <see cref="VirtqPackedDesc"/> entries that both
/// sides write, translated whole by <see cref="PackedVhostQueue.TryCreate"/>. Indexes come from the queue's own
/// counters (always below <see cref="Size"/>); nothing read here is an index into memory.
/// </summary>
/// <remarks>
/// Ordering (§2.8.21 "Supplying Buffers to The Device", §2.8.22 "Receiving Used Buffers From The Device"):
/// <see cref="ReadFlags"/> is an acquire load, so the other fields read after it (each with one volatile load, into
/// the caller's copy) are at least as new as the flags that made the descriptor available;
/// <see cref="WriteIdLen"/> stores id and len, and <see cref="PublishFlags"/> stores the flags with release ordering
/// after them, so the driver sees the used descriptor whole (and the buffer contents written before it).
/// </remarks>
internal readonly unsafe struct PackedRingView
{
    private readonly VirtqPackedDesc* _ring;

    /// <summary>A view over <paramref name="size"/> descriptors at <paramref name="ring"/> (translated whole, 16-byte aligned).</summary>
    public PackedRingView(nint ring, int size)
    {
        _ring = (VirtqPackedDesc*)ring;
        Size = size;
    }

    /// <summary>Descriptors in the ring.</summary>
    public int Size { get; }

    /// <summary>flags of descriptor <paramref name="index"/>, with acquire ordering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadFlags(int index)
    {
        Debug.Assert((uint)index < (uint)Size);
        return Volatile.Read(ref _ring[index].Flags);
    }

    /// <summary>
    /// Copies addr, len and id of descriptor <paramref name="index"/> (one volatile load each) into a local, with
    /// <paramref name="flags"/> (the value the caller already read with <see cref="ReadFlags"/>) as its flags.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public VirtqPackedDesc Read(int index, ushort flags)
    {
        Debug.Assert((uint)index < (uint)Size);
        VirtqPackedDesc* d = _ring + index;
        return new VirtqPackedDesc
        {
            Addr = Volatile.Read(ref d->Addr),
            Len = Volatile.Read(ref d->Len),
            Id = Volatile.Read(ref d->Id),
            Flags = flags,
        };
    }

    /// <summary>Writes id and len of the used descriptor at <paramref name="index"/> (not yet visible as used).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteIdLen(int index, ushort id, uint len)
    {
        Debug.Assert((uint)index < (uint)Size);
        VirtqPackedDesc* d = _ring + index;
        d->Len = len;
        d->Id = id;
    }

    /// <summary>Stores the flags of descriptor <paramref name="index"/> with release ordering: the used descriptor becomes visible.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PublishFlags(int index, ushort flags)
    {
        Debug.Assert((uint)index < (uint)Size);
        Volatile.Write(ref _ring[index].Flags, flags);
    }

    /// <summary>
    /// Copies entry <paramref name="index"/> of an indirect table at <paramref name="table"/> (translated whole by
    /// the caller for at least <paramref name="index"/> + 1 entries) into a local with one unaligned 16-byte read:
    /// the spec gives indirect tables no alignment, and nothing orders their entries (§2.8.7 "Indirect Flag"), so no acquire is
    /// needed; the caller uses only the copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VirtqPackedDesc ReadTableEntry(nint table, int index) =>
        Unsafe.ReadUnaligned<VirtqPackedDesc>((byte*)table + ((nuint)(uint)index * VirtqPackedDesc.Size));
}
