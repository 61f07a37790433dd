using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// Native mbuf header, 128 bytes, at the start of every mempool object (DESIGN.md, Memory). The first
/// cache line holds what Rx writes and io forwarding reads; the second the Tx offload lengths and the
/// external buffer link. Layout is fixed and tested (MbufHeaderLayoutTests). Modelled on DPDK's
/// struct rte_mbuf (lib/mbuf/rte_mbuf_core.h), not copied: offsets are ours.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct MbufHeader
{
    public const int Size = 128;

    /// <summary>Start of the data buffer (own or external).</summary>
    [FieldOffset(0)] public nint BufAddr;

    /// <summary>Device-visible address of the buffer (IOVA = VA here).</summary>
    [FieldOffset(8)] public ulong BufIova;

    /// <summary>References to this mbuf; freed to its pool when it drops to zero.</summary>
    [FieldOffset(16)] public int RefCnt;

    /// <summary>Offset of the first data byte from <see cref="BufAddr"/>.</summary>
    [FieldOffset(20)] public ushort DataOff;

    /// <summary>Segments in the chain (valid in the first segment).</summary>
    [FieldOffset(22)] public ushort NbSegs;

    [FieldOffset(24)] public ulong OlFlags;

    [FieldOffset(32)] public uint PacketType;

    /// <summary>Bytes in the whole chain (valid in the first segment).</summary>
    [FieldOffset(36)] public uint PktLen;

    /// <summary>Bytes in this segment.</summary>
    [FieldOffset(40)] public ushort DataLen;

    [FieldOffset(42)] public ushort VlanTci;

    [FieldOffset(44)] public uint RssHash;

    /// <summary>Port the packet came in on.</summary>
    [FieldOffset(48)] public ushort Port;

    /// <summary>Size of the data buffer.</summary>
    [FieldOffset(50)] public ushort BufLen;

    /// <summary>Index of the owning mempool in the pool table.</summary>
    [FieldOffset(52)] public ushort PoolId;

    /// <summary>Bytes of private area between the header and the own buffer.</summary>
    [FieldOffset(54)] public ushort PrivSize;

    /// <summary>Next segment (an <see cref="MbufHeader"/>*), or 0.</summary>
    [FieldOffset(56)] public nint Next;

    // ---- second cache line: Tx offloads, external buffer ----
    [FieldOffset(64)] public ushort L2Len;

    [FieldOffset(66)] public ushort L3Len;

    [FieldOffset(68)] public ushort L4Len;

    [FieldOffset(70)] public ushort TsoSegSz;

    [FieldOffset(72)] public ushort VlanTciOuter;

    [FieldOffset(74)] public ushort Reserved0;

    [FieldOffset(76)] public uint Reserved1;

    /// <summary>Shared info of an attached external buffer (an <see cref="ExternalBufferInfo"/>*), or 0.</summary>
    [FieldOffset(80)] public nint ShInfo;

    /// <summary>Free for the application or driver.</summary>
    [FieldOffset(88)] public ulong UserData;

    /// <summary>Headroom every freshly allocated packet mbuf starts with (RTE_PKTMBUF_HEADROOM).</summary>
    public const ushort DefaultHeadroom = 128;

    /// <summary>Port value for "no port" (RTE_MBUF_PORT_INVALID).</summary>
    public const ushort PortInvalid = ushort.MaxValue;
}
