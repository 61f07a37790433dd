using System.Runtime.CompilerServices;

namespace Hyperlane.Memory;

/// <summary>
/// A packet buffer: an 8-byte handle to a native <see cref="MbufHeader"/> in a mempool region
/// (DESIGN.md, Memory). Copying the handle does not copy the packet; whoever holds the handle owns
/// one reference. A default handle is "no mbuf" (<see cref="IsNull"/>).
/// </summary>
public readonly unsafe struct Mbuf : IEquatable<Mbuf>
{
    /// <summary>Most segments one packet may have (DPDK's RTE_MBUF_MAX_NB_SEGS is 65535; a 64 KiB packet needs 33 of 2 KiB).</summary>
    public const int MaxSegments = 255;

    /// <summary>Largest packet Hyperlane carries, summed over its segments.</summary>
    public const int MaxPacketLength = 65536;

    private readonly MbufHeader* h;

    private Mbuf(MbufHeader* header) => h = header;

    /// <summary>True for the default handle, which names no mbuf.</summary>
    public bool IsNull => h == null;

    /// <summary>The header's address.</summary>
    public nint Pointer => (nint)h;

    /// <summary>Direct access to the native header for drivers.</summary>
    public ref MbufHeader Header
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref *h;
    }

    /// <summary>Bytes in this segment.</summary>
    public ushort DataLength
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => h->DataLen;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => h->DataLen = value;
    }

    /// <summary>Bytes in the whole packet (first segment only).</summary>
    public uint PacketLength
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => h->PktLen;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => h->PktLen = value;
    }

    public ushort SegmentCount => h->NbSegs;

    public ushort Port
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => h->Port;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => h->Port = value;
    }

    public MbufOffloadFlags OffloadFlags
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (MbufOffloadFlags)h->OlFlags;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => h->OlFlags = (ulong)value;
    }

    public uint PacketType
    {
        get => h->PacketType;
        set => h->PacketType = value;
    }

    public ushort VlanTci
    {
        get => h->VlanTci;
        set => h->VlanTci = value;
    }

    public uint RssHash
    {
        get => h->RssHash;
        set => h->RssHash = value;
    }

    public ushort L2Length
    {
        get => h->L2Len;
        set => h->L2Len = value;
    }

    public ushort L3Length
    {
        get => h->L3Len;
        set => h->L3Len = value;
    }

    public ushort L4Length
    {
        get => h->L4Len;
        set => h->L4Len = value;
    }

    public ushort TsoSegmentSize
    {
        get => h->TsoSegSz;
        set => h->TsoSegSz = value;
    }

    public int RefCount => Volatile.Read(ref h->RefCnt);

    public ushort DataOffset => h->DataOff;

    public ushort BufferLength => h->BufLen;

    public nint BufferAddress => h->BufAddr;

    /// <summary>Free bytes before the data in this segment.</summary>
    public int Headroom => h->DataOff;

    /// <summary>Free bytes after the data in this segment.</summary>
    public int Tailroom => h->BufLen - h->DataOff - h->DataLen;

    public bool IsExternal => (h->OlFlags & (ulong)MbufOffloadFlags.ExternalAttached) != 0;

    /// <summary>The next segment, or a null handle.</summary>
    public Mbuf Next => new((MbufHeader*)h->Next);

    /// <summary>The last segment of the chain.</summary>
    public Mbuf LastSegment
    {
        get
        {
            MbufHeader* m = h;
            while (m->Next != 0)
            {
                m = (MbufHeader*)m->Next;
            }

            return new Mbuf(m);
        }
    }

    /// <summary>The pool this mbuf returns to.</summary>
    public Mempool Pool => Mempool.FromId(h->PoolId);

    /// <summary>This segment's data bytes.</summary>
    public Span<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new((byte*)h->BufAddr + h->DataOff, h->DataLen);
    }

    /// <summary>Device-visible address of the first data byte.</summary>
    public ulong DataIova => h->BufIova + h->DataOff;

    public static bool operator ==(Mbuf left, Mbuf right) => left.h == right.h;

    public static bool operator !=(Mbuf left, Mbuf right) => left.h != right.h;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mbuf FromPointer(nint header) => new((MbufHeader*)header);

    /// <summary>Frees every packet in <paramref name="packets"/> (all their segments), batching returns per pool.</summary>
    public static void FreeBulk(ReadOnlySpan<Mbuf> packets) => Mempool.FreePackets(packets);

    /// <summary>Resets packet fields to a fresh, empty single-segment state with default headroom.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset() => ResetHeader(h);

    /// <summary>Makes room for <paramref name="length"/> bytes before the data; false when the headroom is too small.</summary>
    public bool TryPrepend(int length, out Span<byte> head)
    {
        if ((uint)length > h->DataOff || h->PktLen + (uint)length > MaxPacketLength)
        {
            head = default;
            return false;
        }

        h->DataOff -= (ushort)length;
        h->DataLen += (ushort)length;
        h->PktLen += (uint)length;
        head = new Span<byte>((byte*)h->BufAddr + h->DataOff, length);
        return true;
    }

    /// <summary>Adds <paramref name="length"/> bytes at the end of the last segment; false when its tailroom is too small.</summary>
    public bool TryAppend(int length, out Span<byte> tail)
    {
        MbufHeader* last = (MbufHeader*)LastSegment.h;
        if (length < 0 || length > last->BufLen - last->DataOff - last->DataLen || h->PktLen + (uint)length > MaxPacketLength)
        {
            tail = default;
            return false;
        }

        tail = new Span<byte>((byte*)last->BufAddr + last->DataOff + last->DataLen, length);
        last->DataLen += (ushort)length;
        h->PktLen += (uint)length;
        return true;
    }

    /// <summary>Removes <paramref name="length"/> bytes from the start of the first segment (rte_pktmbuf_adj).</summary>
    public bool TryAdj(int length)
    {
        if ((uint)length > h->DataLen)
        {
            return false;
        }

        h->DataOff += (ushort)length;
        h->DataLen -= (ushort)length;
        h->PktLen -= (uint)length;
        return true;
    }

    /// <summary>Removes <paramref name="length"/> bytes from the end of the last segment (rte_pktmbuf_trim).</summary>
    public bool TryTrim(int length)
    {
        MbufHeader* last = (MbufHeader*)LastSegment.h;
        if ((uint)length > last->DataLen)
        {
            return false;
        }

        last->DataLen -= (ushort)length;
        h->PktLen -= (uint)length;
        return true;
    }

    /// <summary>
    /// Appends the packet <paramref name="tail"/> (all its segments) to this one (rte_pktmbuf_chain).
    /// False, and nothing changed, when the result would exceed <see cref="MaxSegments"/> or <see cref="MaxPacketLength"/>.
    /// </summary>
    public bool TryChain(Mbuf tail)
    {
        if (tail.IsNull || tail.h == h || h->NbSegs + tail.h->NbSegs > MaxSegments || h->PktLen + tail.h->PktLen > MaxPacketLength)
        {
            return false;
        }

        MbufHeader* last = (MbufHeader*)LastSegment.h;
        last->Next = (nint)tail.h;
        h->NbSegs += tail.h->NbSegs;
        h->PktLen += tail.h->PktLen;
        tail.h->PktLen = tail.h->DataLen;
        tail.h->NbSegs = 1;
        return true;
    }

    /// <summary>Copies the whole packet, across segments, into <paramref name="destination"/>; returns bytes copied.</summary>
    public int CopyTo(Span<byte> destination)
    {
        int copied = 0;
        for (MbufHeader* m = h; m != null && copied < destination.Length; m = (MbufHeader*)m->Next)
        {
            int n = Math.Min(m->DataLen, destination.Length - copied);
            new ReadOnlySpan<byte>((byte*)m->BufAddr + m->DataOff, n).CopyTo(destination[copied..]);
            copied += n;
        }

        return copied;
    }

    /// <summary>
    /// Checks that the chain is consistent: segment count and packet length match the segments, each
    /// segment's data lies in its buffer, and the chain ends within <see cref="MaxSegments"/>.
    /// Returns null when it is, else what is wrong.
    /// </summary>
    public string? Validate()
    {
        if (h == null)
        {
            return "null mbuf";
        }

        uint len = 0;
        int segs = 0;
        for (MbufHeader* m = h; m != null; m = (MbufHeader*)m->Next)
        {
            if (++segs > MaxSegments)
            {
                return "segment chain too long or looped";
            }

            if (m->DataOff + m->DataLen > m->BufLen)
            {
                return $"segment {segs - 1}: data [{m->DataOff}, +{m->DataLen}) past buffer of {m->BufLen}";
            }

            len += m->DataLen;
        }

        if (segs != h->NbSegs)
        {
            return $"nb_segs {h->NbSegs} but {segs} segments";
        }

        return len != h->PktLen ? $"pkt_len {h->PktLen} but segments hold {len}" : null;
    }

    /// <summary>
    /// Attaches this (direct, single-reference) mbuf's data to an external buffer; the caller has counted
    /// this attachment in <paramref name="sharedInfo"/>'s reference count. Data offset and length are reset to 0.
    /// </summary>
    public void AttachExternal(nint buffer, ulong iova, ushort length, ref ExternalBufferInfo sharedInfo)
    {
        h->BufAddr = buffer;
        h->BufIova = iova;
        h->BufLen = length;
        h->DataOff = 0;
        h->DataLen = 0;
        h->ShInfo = (nint)Unsafe.AsPointer(ref sharedInfo);
        h->OlFlags |= (ulong)MbufOffloadFlags.ExternalAttached;
    }

    /// <summary>Attaches this mbuf to the same external buffer as <paramref name="other"/>, adding a reference.</summary>
    public bool TryAttachSharedExternal(Mbuf other)
    {
        // Only a direct mbuf we hold alone may take the attachment: otherwise the reference it already
        // holds on another external buffer would be overwritten and never released.
        if (other.h == h || !other.IsExternal || other.h->ShInfo == 0 || IsExternal || h->RefCnt != 1)
        {
            return false;
        }

        var info = (ExternalBufferInfo*)other.h->ShInfo;
        Interlocked.Increment(ref info->RefCnt);
        AttachExternal(other.h->BufAddr, other.h->BufIova, other.h->BufLen, ref *info);
        h->DataOff = other.h->DataOff;
        h->DataLen = other.h->DataLen;
        h->PktLen = other.h->DataLen;
        return true;
    }

    /// <summary>Adds <paramref name="delta"/> references (rte_mbuf_refcnt_update); returns the new count.</summary>
    public int AddReferences(int delta) => Interlocked.Add(ref h->RefCnt, delta);

    /// <summary>Frees every segment of the packet to its pool.</summary>
    public void Free()
    {
        MbufHeader* m = h;
        while (m != null)
        {
            MbufHeader* next = (MbufHeader*)m->Next;
            if (Mempool.PreFree(m))
            {
                Mempool.FromId(m->PoolId).Put((nint)m);
            }

            m = next;
        }
    }

    public bool Equals(Mbuf other) => h == other.h;

    public override bool Equals(object? obj) => obj is Mbuf m && m.h == h;

    public override int GetHashCode() => ((nint)h).GetHashCode();

    public override string ToString() =>
        h == null ? "mbuf(null)" : $"mbuf(0x{(nint)h:x}, len={h->PktLen}, segs={h->NbSegs}, port={h->Port})";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ResetHeader(MbufHeader* m)
    {
        m->Next = 0;
        m->PktLen = 0;
        m->DataLen = 0;
        m->NbSegs = 1;
        m->Port = MbufHeader.PortInvalid;
        m->OlFlags = 0;
        m->PacketType = 0;
        m->VlanTci = 0;
        m->DataOff = m->BufLen < MbufHeader.DefaultHeadroom ? m->BufLen : MbufHeader.DefaultHeadroom;
        *(ulong*)&m->L2Len = 0; // L2Len, L3Len, L4Len, TsoSegSz in one store
        m->VlanTciOuter = 0;
    }
}
