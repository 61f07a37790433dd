namespace Hyperlane.Net.AfPacket;

/// <summary>The validated devargs of one <c>net_af_packet</c> port.</summary>
internal sealed record AfPacketOptions(
    string Interface,
    int QueuePairs,
    int BlockSize,
    int FrameSize,
    int FrameCount,
    bool QdiscBypass,
    string FanoutMode,
    bool Steal)
{
    /// <summary>Frames per block of the Tx ring (frames never span blocks).</summary>
    public int FramesPerBlock => BlockSize / FrameSize;

    /// <summary>Blocks per ring: <see cref="FrameCount"/> rounded up to whole blocks.</summary>
    public int BlockCount => (FrameCount + FramesPerBlock - 1) / FramesPerBlock;

    /// <summary>Frames per ring after rounding up to whole blocks.</summary>
    public int RingFrameCount => BlockCount * FramesPerBlock;

    /// <summary>Bytes of one ring (Rx and Tx rings have the same geometry).</summary>
    public long RingBytes => (long)BlockCount * BlockSize;
}
