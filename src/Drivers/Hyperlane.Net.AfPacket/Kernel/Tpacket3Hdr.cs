using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// struct tpacket3_hdr (linux/if_packet.h) with its tpacket_hdr_variant1, 48 bytes: the head of every
/// packet in a TPACKET_V3 block (Rx), and of every frame of a V3 Tx ring (where only tp_len and tp_status count).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct Tpacket3Hdr
{
    [FieldOffset(0)] public uint NextOffset;
    [FieldOffset(4)] public uint Sec;
    [FieldOffset(8)] public uint Nsec;
    [FieldOffset(12)] public uint Snaplen;
    [FieldOffset(16)] public uint Len;
    [FieldOffset(20)] public uint Status;
    [FieldOffset(24)] public ushort Mac;
    [FieldOffset(26)] public ushort Net;
    [FieldOffset(28)] public uint RxHash;
    [FieldOffset(32)] public uint VlanTci;
    [FieldOffset(36)] public ushort VlanTpid;
}
