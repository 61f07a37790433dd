namespace Hyperlane.Memory;

/// <summary>Packet type bits, with DPDK's RTE_PTYPE_* values so users can read them as they know them.</summary>
public static class PacketTypes
{
    public const uint Unknown = 0;
    public const uint L2Ether = 0x00000001;
    public const uint L2EtherArp = 0x00000003;
    public const uint L2EtherVlan = 0x00000006;
    public const uint L2EtherQinQ = 0x00000007;
    public const uint L2Mask = 0x0000000f;
    public const uint L3Ipv4 = 0x00000010;
    public const uint L3Ipv4Ext = 0x00000030;
    public const uint L3Ipv6 = 0x00000040;
    public const uint L3Ipv6Ext = 0x000000e0;
    public const uint L3Mask = 0x000000f0;
    public const uint L4Tcp = 0x00000100;
    public const uint L4Udp = 0x00000200;
    public const uint L4Frag = 0x00000300;
    public const uint L4Icmp = 0x00000500;
    public const uint L4NonFrag = 0x00000600;
    public const uint L4Mask = 0x00000f00;
}
