using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Net.AfPacket.Kernel;

namespace Hyperlane.Net.AfPacket.Tests;

/// <summary>
/// Layout of every struct the af_packet driver shares with the kernel (DESIGN.md, Code habits). The expected
/// sizes and offsets are written by hand from the Linux uapi headers for x86_64, never derived from our types.
/// </summary>
public sealed class AfPacketLayoutTests
{
    /// <summary>
    /// include/uapi/linux/if.h: struct ifreq = char ifr_name[IFNAMSIZ = 16], then a union of short ifr_flags,
    /// int ifr_mtu, struct sockaddr ifr_hwaddr (sa_family_t sa_family; char sa_data[14]), struct ifmap (24
    /// bytes on x86_64, the largest member) ...: 40 bytes.
    /// </summary>
    /// <summary>
    /// include/uapi/linux/if_packet.h: struct packet_mreq { int mr_ifindex; unsigned short mr_type;
    /// unsigned short mr_alen; unsigned char mr_address[8]; }: 16 bytes.
    /// </summary>
    [Fact]
    public void PacketMreq_matches_linux_if_packet_h()
    {
        Assert.Equal(16, Unsafe.SizeOf<PacketMreq>());
        Assert.Equal(16, Marshal.SizeOf<PacketMreq>());
        Assert.Equal(0, Offset<PacketMreq>(nameof(PacketMreq.IfIndex)));
        Assert.Equal(4, Offset<PacketMreq>(nameof(PacketMreq.Type)));
        Assert.Equal(6, Offset<PacketMreq>(nameof(PacketMreq.ALen)));
        Assert.Equal(8, Offset<PacketMreq>(nameof(PacketMreq.Address)));
    }

    /// <summary>
    /// include/uapi/linux/if_packet.h: struct sockaddr_ll { unsigned short sll_family; __be16 sll_protocol;
    /// int sll_ifindex; unsigned short sll_hatype; unsigned char sll_pkttype; unsigned char sll_halen;
    /// unsigned char sll_addr[8]; }: 20 bytes.
    /// </summary>
    [Fact]
    public void SockaddrLl_matches_linux_if_packet_h()
    {
        Assert.Equal(20, Unsafe.SizeOf<SockaddrLl>());
        Assert.Equal(20, Marshal.SizeOf<SockaddrLl>());
        Assert.Equal(0, Offset<SockaddrLl>(nameof(SockaddrLl.Family)));
        Assert.Equal(2, Offset<SockaddrLl>(nameof(SockaddrLl.Protocol)));
        Assert.Equal(4, Offset<SockaddrLl>(nameof(SockaddrLl.IfIndex)));
        Assert.Equal(8, Offset<SockaddrLl>(nameof(SockaddrLl.HaType)));
        Assert.Equal(10, Offset<SockaddrLl>(nameof(SockaddrLl.PktType)));
        Assert.Equal(11, Offset<SockaddrLl>(nameof(SockaddrLl.HaLen)));
        Assert.Equal(12, Offset<SockaddrLl>(nameof(SockaddrLl.Addr)));
    }

    /// <summary>
    /// include/uapi/linux/if_packet.h: struct tpacket3_hdr { __u32 tp_next_offset; __u32 tp_sec; __u32 tp_nsec;
    /// __u32 tp_snaplen; __u32 tp_len; __u32 tp_status; __u16 tp_mac; __u16 tp_net; union { struct
    /// tpacket_hdr_variant1 hv1; }; __u8 tp_padding[8]; } with struct tpacket_hdr_variant1 { __u32 tp_rxhash;
    /// __u32 tp_vlan_tci; __u16 tp_vlan_tpid; __u16 tp_padding; }: hv1 at 28 (12 bytes), tp_padding[8] at 40,
    /// 48 bytes in all (= TPACKET_ALIGN(sizeof(struct tpacket3_hdr))).
    /// </summary>
    [Fact]
    public void Tpacket3Hdr_matches_linux_if_packet_h()
    {
        Assert.Equal(48, Unsafe.SizeOf<Tpacket3Hdr>());
        Assert.Equal(48, Marshal.SizeOf<Tpacket3Hdr>());
        Assert.Equal(0, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.NextOffset)));
        Assert.Equal(4, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Sec)));
        Assert.Equal(8, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Nsec)));
        Assert.Equal(12, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Snaplen)));
        Assert.Equal(16, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Len)));
        Assert.Equal(20, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Status)));
        Assert.Equal(24, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Mac)));
        Assert.Equal(26, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.Net)));
        Assert.Equal(28, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.RxHash)));
        Assert.Equal(32, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.VlanTci)));
        Assert.Equal(36, Offset<Tpacket3Hdr>(nameof(Tpacket3Hdr.VlanTpid)));
        Assert.Equal(48, PacketConstants.Tpacket3HeaderLength);
        Assert.Equal(16, PacketConstants.TPACKET_ALIGNMENT);
    }

    /// <summary>
    /// include/uapi/linux/if_packet.h: struct tpacket_block_desc { __u32 version; __u32 offset_to_priv; union
    /// tpacket_bd_header_u hdr; } with struct tpacket_hdr_v1 { __u32 block_status; __u32 num_pkts; __u32
    /// offset_to_first_pkt; __u32 blk_len; __aligned_u64 seq_num; struct tpacket_bd_ts ts_first_pkt,
    /// ts_last_pkt; } and struct tpacket_bd_ts { unsigned int ts_sec; union { unsigned int ts_usec, ts_nsec; }; }
    /// (8 bytes): hdr at 8, seq_num at 24, ts_first_pkt at 32, ts_last_pkt at 40; 48 bytes.
    /// </summary>
    [Fact]
    public void TpacketBlockDesc_matches_linux_if_packet_h()
    {
        Assert.Equal(48, Unsafe.SizeOf<TpacketBlockDesc>());
        Assert.Equal(48, Marshal.SizeOf<TpacketBlockDesc>());
        Assert.Equal(0, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.Version)));
        Assert.Equal(4, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.OffsetToPriv)));
        Assert.Equal(8, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.BlockStatus)));
        Assert.Equal(12, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.NumPkts)));
        Assert.Equal(16, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.OffsetToFirstPkt)));
        Assert.Equal(20, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.BlkLen)));
        Assert.Equal(24, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.SeqNum)));
        Assert.Equal(32, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.TsFirstPkt)));
        Assert.Equal(40, Offset<TpacketBlockDesc>(nameof(TpacketBlockDesc.TsLastPkt)));
        Assert.Equal(48, PacketConstants.BlockDescriptorLength);
    }

    /// <summary>
    /// include/uapi/linux/if_packet.h: struct tpacket_req3 { unsigned int tp_block_size, tp_block_nr,
    /// tp_frame_size, tp_frame_nr, tp_retire_blk_tov, tp_sizeof_priv, tp_feature_req_word; }: 28 bytes.
    /// </summary>
    [Fact]
    public void TpacketReq3_matches_linux_if_packet_h()
    {
        Assert.Equal(28, Unsafe.SizeOf<TpacketReq3>());
        Assert.Equal(28, Marshal.SizeOf<TpacketReq3>());
        Assert.Equal(0, Offset<TpacketReq3>(nameof(TpacketReq3.BlockSize)));
        Assert.Equal(4, Offset<TpacketReq3>(nameof(TpacketReq3.BlockNr)));
        Assert.Equal(8, Offset<TpacketReq3>(nameof(TpacketReq3.FrameSize)));
        Assert.Equal(12, Offset<TpacketReq3>(nameof(TpacketReq3.FrameNr)));
        Assert.Equal(16, Offset<TpacketReq3>(nameof(TpacketReq3.RetireBlkTov)));
        Assert.Equal(20, Offset<TpacketReq3>(nameof(TpacketReq3.SizeofPriv)));
        Assert.Equal(24, Offset<TpacketReq3>(nameof(TpacketReq3.FeatureReqWord)));
    }

    /// <summary>
    /// include/uapi/linux/if_packet.h: struct tpacket_stats_v3 { unsigned int tp_packets; unsigned int tp_drops;
    /// unsigned int tp_freeze_q_cnt; }: 12 bytes.
    /// </summary>
    [Fact]
    public void TpacketStatsV3_matches_linux_if_packet_h()
    {
        Assert.Equal(12, Unsafe.SizeOf<TpacketStatsV3>());
        Assert.Equal(12, Marshal.SizeOf<TpacketStatsV3>());
        Assert.Equal(0, Offset<TpacketStatsV3>(nameof(TpacketStatsV3.Packets)));
        Assert.Equal(4, Offset<TpacketStatsV3>(nameof(TpacketStatsV3.Drops)));
        Assert.Equal(8, Offset<TpacketStatsV3>(nameof(TpacketStatsV3.FreezeQCount)));
    }

    /// <summary>include/uapi/linux/if_packet.h and linux/if_ether.h constants the ring walk depends on.</summary>
    [Fact]
    public void Ring_constants_match_linux_if_packet_h()
    {
        Assert.Equal(263, PacketConstants.SOL_PACKET);
        Assert.Equal(5, PacketConstants.PACKET_RX_RING);
        Assert.Equal(13, PacketConstants.PACKET_TX_RING);
        Assert.Equal(10, PacketConstants.PACKET_VERSION);
        Assert.Equal(2, PacketConstants.TPACKET_V3);
        Assert.Equal(0u, PacketConstants.TP_STATUS_KERNEL);
        Assert.Equal(1u, PacketConstants.TP_STATUS_USER);
        Assert.Equal(0x10u, PacketConstants.TP_STATUS_VLAN_VALID);
        Assert.Equal(0x0003, PacketConstants.ETH_P_ALL);
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
