using System.Runtime.CompilerServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// View of a mapped TPACKET_V3 Tx ring: <see cref="FrameCount"/> fixed frames of <see cref="FrameSize"/> bytes,
/// <c>BlockSize / FrameSize</c> per block (frames never span blocks). A frame is a <see cref="Tpacket3Hdr"/>
/// then the packet at offset 48. User space fills an available frame and sets TP_STATUS_SEND_REQUEST; the
/// kernel sends it on the next sendto() and sets TP_STATUS_AVAILABLE when the skb is freed. The view does
/// not own the mapping.
/// </summary>
internal sealed unsafe class TxRing
{
    private readonly byte* start;
    private readonly int blockSize;
    private readonly int framesPerBlock;

    public TxRing(nint start, int blockSize, int frameSize, int frameCount)
    {
        this.start = (byte*)start;
        this.blockSize = blockSize;
        FrameSize = frameSize;
        FrameCount = frameCount;
        framesPerBlock = blockSize / frameSize;
    }

    public int FrameSize { get; }

    public int FrameCount { get; }

    /// <summary>The frame the next queue on this ring fills first (the kernel sends frames in order).</summary>
    public int NextFrame { get; set; }

    /// <summary>Largest packet one frame holds.</summary>
    public int Capacity => FrameSize - PacketConstants.Tpacket3HeaderLength;

    /// <summary>Whether frame <paramref name="frame"/> may be filled (the kernel is done with it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsAvailable(int frame)
    {
        uint s = Volatile.Read(ref Header(frame)->Status);
        return (s & (PacketConstants.TP_STATUS_SEND_REQUEST | PacketConstants.TP_STATUS_SENDING)) == 0;
    }

    /// <summary>The data area of frame <paramref name="frame"/> (<see cref="Capacity"/> bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Data(int frame) => new((byte*)Header(frame) + PacketConstants.Tpacket3HeaderLength, Capacity);

    /// <summary>Hands frame <paramref name="frame"/>, holding <paramref name="length"/> bytes, to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Submit(int frame, int length)
    {
        Tpacket3Hdr* h = Header(frame);
        h->NextOffset = 0;
        h->Len = (uint)length;
        h->Snaplen = (uint)length;
        Volatile.Write(ref h->Status, PacketConstants.TP_STATUS_SEND_REQUEST);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Tpacket3Hdr* Header(int frame) =>
        (Tpacket3Hdr*)(start + ((nint)(frame / framesPerBlock) * blockSize) + ((frame % framesPerBlock) * FrameSize));
}
