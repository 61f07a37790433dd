namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>Constants of AF_PACKET sockets and their mapped rings (linux/if_packet.h, linux/if_ether.h, linux/sockios.h).</summary>
internal static class PacketConstants
{
    public const int SOL_PACKET = 263;

    // setsockopt names (linux/if_packet.h)
    public const int PACKET_ADD_MEMBERSHIP = 1;
    public const int PACKET_DROP_MEMBERSHIP = 2;
    public const int PACKET_RX_RING = 5;
    public const int PACKET_STATISTICS = 6;
    public const int PACKET_VERSION = 10;
    public const int PACKET_TX_RING = 13;
    public const int PACKET_LOSS = 14;
    public const int PACKET_FANOUT = 18;
    public const int PACKET_QDISC_BYPASS = 20;
    public const int PACKET_IGNORE_OUTGOING = 23;

    public const int PACKET_MR_PROMISC = 1;
    public const int PACKET_MR_ALLMULTI = 2;

    public const int TPACKET_V3 = 2;

    /// <summary>TPACKET_ALIGNMENT: frames and headers in the rings are aligned to 16 bytes.</summary>
    public const int TPACKET_ALIGNMENT = 16;

    /// <summary>TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where a V3 Tx frame's data starts (no PACKET_TX_HAS_OFF).</summary>
    public const int Tpacket3HeaderLength = 48;

    /// <summary>sizeof(struct tpacket_block_desc) with a tpacket_hdr_v1: where a V3 block's packets may start.</summary>
    public const int BlockDescriptorLength = 48;

    // tp_status (Rx)
    public const uint TP_STATUS_KERNEL = 0;
    public const uint TP_STATUS_USER = 1;
    public const uint TP_STATUS_VLAN_VALID = 0x10;

    // tp_status (Tx)
    public const uint TP_STATUS_AVAILABLE = 0;
    public const uint TP_STATUS_SEND_REQUEST = 1;
    public const uint TP_STATUS_SENDING = 2;
    public const uint TP_STATUS_WRONG_FORMAT = 4;

    // fanout (linux/if_packet.h): mode in bits 16..23 of the option, flags above it, group id below.
    public const int PACKET_FANOUT_HASH = 0;
    public const int PACKET_FANOUT_LB = 1;
    public const int PACKET_FANOUT_CPU = 2;
    public const int PACKET_FANOUT_ROLLOVER = 3;
    public const int PACKET_FANOUT_RND = 4;
    public const int PACKET_FANOUT_QM = 5;
    public const int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    public const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    /// <summary>ETH_P_ALL (linux/if_ether.h), host order; sockaddr_ll wants it big-endian.</summary>
    public const ushort ETH_P_ALL = 0x0003;

    /// <summary>IFNAMSIZ - 1: the longest interface name.</summary>
    public const int MaxInterfaceName = 15;
}
