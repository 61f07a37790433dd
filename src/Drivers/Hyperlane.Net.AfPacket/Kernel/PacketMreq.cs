using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>struct packet_mreq (linux/if_packet.h), 16 bytes: PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PacketMreq
{
    public int IfIndex;
    public ushort Type;
    public ushort ALen;
    public fixed byte Address[8];
}
