using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>struct tpacket_stats_v3 (linux/if_packet.h), 12 bytes. Reading PACKET_STATISTICS resets the kernel's counters.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TpacketStatsV3
{
    public uint Packets;
    public uint Drops;
    public uint FreezeQCount;
}
