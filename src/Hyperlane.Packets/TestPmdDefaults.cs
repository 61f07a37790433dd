namespace Hyperlane.Packets;

/// <summary>
/// The defaults of DPDK testpmd's txonly forwarding mode (app/test-pmd/txonly.c, testpmd.h), so our
/// generator's frames match what a DPDK peer sends and expects.
/// </summary>
public static class TestPmdDefaults
{
    /// <summary>198.18.0.1 (tx_ip_src_addr).</summary>
    public const uint SourceIp = (198U << 24) | (18U << 16) | 1U;

    /// <summary>198.18.0.2 (tx_ip_dst_addr).</summary>
    public const uint DestinationIp = (198U << 24) | (18U << 16) | 2U;

    /// <summary>UDP port 9 (discard) for both source and destination (tx_udp_src_port, tx_udp_dst_port).</summary>
    public const ushort UdpPort = 9;

    /// <summary>IPv4 TTL (IP_DEFTTL).</summary>
    public const byte Ttl = 64;

    /// <summary>Packet length without FCS (TXONLY_DEF_PACKET_LEN).</summary>
    public const int FrameLength = 64;

    /// <summary>testpmd's default peer MAC for a port: 02:00:00:00:00:&lt;port&gt; (set_def_peer_eth_addrs).</summary>
    public static MacAddress PeerMac(byte portId) => new(0x02, 0, 0, 0, 0, portId);
}
