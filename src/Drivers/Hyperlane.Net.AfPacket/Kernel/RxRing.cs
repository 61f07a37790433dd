using System.Runtime.CompilerServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// View of a mapped TPACKET_V3 Rx ring: <see cref="BlockCount"/> blocks of <see cref="BlockSize"/> bytes,
/// each a <see cref="TpacketBlockDesc"/> followed by packets. The kernel fills a block, hands it over by
/// setting TP_STATUS_USER, and takes it back when user space writes TP_STATUS_KERNEL. Every offset and
/// length the kernel wrote is read once and checked against the block here, so a wrong value can never
/// make a caller read outside the mapping. The view does not own the mapping.
/// </summary>
internal sealed unsafe class RxRing
{
    private readonly byte* start;

    public RxRing(nint start, int blockSize, int blockCount)
    {
        this.start = (byte*)start;
        BlockSize = blockSize;
        BlockCount = blockCount;
    }

    public int BlockSize { get; }

    public int BlockCount { get; }

    /// <summary>The block the next queue on this ring must look at (the kernel fills blocks in order).</summary>
    public int NextBlock { get; set; }

    /// <summary>Whether block <paramref name="block"/> belongs to user space; if so, its packet count and first offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTakeBlock(int block, out int packetCount, out int firstOffset)
    {
        var d = (TpacketBlockDesc*)(start + ((nint)block * BlockSize));
        if ((Volatile.Read(ref d->BlockStatus) & PacketConstants.TP_STATUS_USER) == 0)
        {
            packetCount = 0;
            firstOffset = 0;
            return false;
        }

        packetCount = (int)Math.Min(d->NumPkts, (uint)BlockSize);
        firstOffset = (int)Math.Min(d->OffsetToFirstPkt, (uint)int.MaxValue);
        return true;
    }

    /// <summary>
    /// Reads the packet header at <paramref name="offset"/> of <paramref name="block"/>. False when the header,
    /// or the packet data it points at, would not lie inside the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadPacket(int block, int offset, out Tpacket3Hdr header)
    {
        if (offset < PacketConstants.BlockDescriptorLength || offset > BlockSize - sizeof(Tpacket3Hdr))
        {
            header = default;
            return false;
        }

        header = *(Tpacket3Hdr*)(start + ((nint)block * BlockSize) + offset);
        long end = (long)offset + header.Mac + header.Snaplen;
        return header.Mac >= sizeof(Tpacket3Hdr) && end <= BlockSize;
    }

    /// <summary>The bytes at <paramref name="offset"/>..+<paramref name="length"/> of a block; the caller checked them with <see cref="TryReadPacket"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Bytes(int block, int offset, int length) =>
        (uint)offset <= (uint)BlockSize && (uint)length <= (uint)(BlockSize - offset)
            ? new ReadOnlySpan<byte>(start + ((nint)block * BlockSize) + offset, length)
            : default;

    /// <summary>Gives block <paramref name="block"/> back to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReleaseBlock(int block)
    {
        var d = (TpacketBlockDesc*)(start + ((nint)block * BlockSize));
        Volatile.Write(ref d->BlockStatus, PacketConstants.TP_STATUS_KERNEL);
    }
}
