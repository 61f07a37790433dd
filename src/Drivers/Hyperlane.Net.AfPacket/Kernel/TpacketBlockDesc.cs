using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// struct tpacket_block_desc with its struct tpacket_hdr_v1 (linux/if_packet.h), 48 bytes: the head of
/// every block of a TPACKET_V3 Rx ring. The kernel writes it; <see cref="BlockStatus"/> says who owns the block.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct TpacketBlockDesc
{
    [FieldOffset(0)] public uint Version;
    [FieldOffset(4)] public uint OffsetToPriv;
    [FieldOffset(8)] public uint BlockStatus;
    [FieldOffset(12)] public uint NumPkts;
    [FieldOffset(16)] public uint OffsetToFirstPkt;
    [FieldOffset(20)] public uint BlkLen;
    [FieldOffset(24)] public ulong SeqNum;
    [FieldOffset(32)] public ulong TsFirstPkt;
    [FieldOffset(40)] public ulong TsLastPkt;
}
