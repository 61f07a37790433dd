using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>struct tpacket_req3 (linux/if_packet.h), 28 bytes: the geometry of a TPACKET_V3 ring.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TpacketReq3
{
    public uint BlockSize;
    public uint BlockNr;
    public uint FrameSize;
    public uint FrameNr;
    public uint RetireBlkTov;
    public uint SizeofPriv;
    public uint FeatureReqWord;
}
