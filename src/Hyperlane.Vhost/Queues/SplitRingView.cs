using System.Runtime.CompilerServices;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// The three parts of a split virtqueue in guest memory (virtio 1.2 §2.7: descriptor table, available ring, used
/// ring), as host pointers translated whole by <see cref="SplitVhostQueue.TryCreate"/> (with used_event and
/// avail_event only when VIRTIO_F_EVENT_IDX is negotiated). Every index passed in is reduced modulo the ring
/// size here, so no caller can reach outside the rings. Fields the driver writes are read with one volatile load
/// each; the caller keeps the value it read.
/// </summary>
/// <remarks>
/// Ordering: <see cref="ReadAvailIdx"/> is an acquire load (ring entries and descriptors read after it see what
/// the driver wrote before publishing the index), <see cref="WriteUsedIdx"/> a release store (the used elements and
/// buffer contents written before it are visible to the driver first).
/// </remarks>
internal readonly unsafe struct SplitRingView
{
    private readonly byte* _desc;
    private readonly byte* _avail;
    private readonly byte* _used;
    private readonly uint _mask;

    /// <summary>A view over rings of <paramref name="size"/> entries (a power of two, checked by the caller).</summary>
    public SplitRingView(nint desc, nint avail, nint used, uint size)
    {
        _desc = (byte*)desc;
        _avail = (byte*)avail;
        _used = (byte*)used;
        Size = size;
        _mask = size - 1;
    }

    /// <summary>Entries in each ring.</summary>
    public uint Size { get; }

    /// <summary>The descriptor table.</summary>
    public SplitDescTableView DescTable => new((nint)_desc, Size);

    /// <summary>avail->flags (VIRTQ_AVAIL_F_NO_INTERRUPT).</summary>
    public ushort ReadAvailFlags() => Volatile.Read(ref *(ushort*)_avail);

    /// <summary>avail->idx, with acquire ordering.</summary>
    public ushort ReadAvailIdx() => Volatile.Read(ref *(ushort*)(_avail + 2));

    /// <summary>avail->ring[<paramref name="index"/> mod size]: a head the driver made available (not yet validated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadAvailEntry(ushort index) =>
        Volatile.Read(ref *(ushort*)(_avail + SplitVirtqueueLayout.AvailRingEntryOffset(index & _mask)));

    /// <summary>used_event (after avail->ring; only with VIRTIO_F_EVENT_IDX).</summary>
    public ushort ReadUsedEvent() => Volatile.Read(ref *(ushort*)(_avail + SplitVirtqueueLayout.UsedEventOffset(Size)));

    /// <summary>used->idx as it is in memory (read at setup: where the previous owner of the ring left it).</summary>
    public ushort ReadUsedIdx() => Volatile.Read(ref *(ushort*)(_used + 2));

    /// <summary>Sets used->flags (VIRTQ_USED_F_NO_NOTIFY).</summary>
    public void WriteUsedFlags(ushort flags) => Volatile.Write(ref *(ushort*)_used, flags);

    /// <summary>Writes used->ring[<paramref name="index"/> mod size] = { id, len } in one 8-byte store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteUsedElem(ushort index, uint id, uint len) =>
        Unsafe.WriteUnaligned(_used + SplitVirtqueueLayout.UsedRingEntryOffset(index & _mask), id | ((ulong)len << 32));

    /// <summary>Publishes used->idx with release ordering.</summary>
    public void WriteUsedIdx(ushort idx) => Volatile.Write(ref *(ushort*)(_used + 2), idx);

    /// <summary>
    /// The guest buffer [<paramref name="host"/>, + <paramref name="length"/>) as a span. The caller got
    /// <paramref name="host"/> from a whole-range <c>GuestMemory</c> translation of at least that length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> GuestBytes(nint host, int length) => new((void*)host, length);
}
