namespace Hyperlane.Packets;

/// <summary>
/// What <see cref="PacketParser.TryParse"/> found in a frame. Offsets are from the start of the frame.
/// Like DPDK's <c>l2_len</c>/<c>l3_len</c>/<c>l4_len</c> plus the L4 segment length.
/// </summary>
public readonly struct PacketInfo
{
    /// <summary>Ethernet header plus VLAN tags: 14, 18 or 22.</summary>
    public int L2Length { get; init; }

    /// <summary>802.1Q/802.1ad tags skipped (0..2).</summary>
    public int VlanCount { get; init; }

    /// <summary>VLAN ID of the first (outer) tag, 0 when untagged.</summary>
    public ushort OuterVlanId { get; init; }

    /// <summary>VLAN ID of the second tag, 0 when there is none.</summary>
    public ushort InnerVlanId { get; init; }

    /// <summary>EtherType after the VLAN tags (a TPID if there were more than two tags).</summary>
    public ushort EtherType { get; init; }

    public L3Type L3Type { get; init; }

    /// <summary>Offset of the L3 header; equals <see cref="L2Length"/>.</summary>
    public int L3Offset => L2Length;

    /// <summary>L3 header length: IPv4 IHL * 4, IPv6 40 plus extension headers, ARP 28; 0 for none.</summary>
    public int L3Length { get; init; }

    /// <summary>IPv4 protocol or the IPv6 upper-layer header after extension headers (<see cref="IpProtocols"/>); 0 if not IP.</summary>
    public byte L4Protocol { get; init; }

    /// <summary>Offset of the L4 header, 0 if not IP.</summary>
    public int L4Offset { get; init; }

    /// <summary>L4 header length: UDP 8, TCP data offset * 4, ICMP/ICMPv6 8; 0 for other protocols and later fragments.</summary>
    public int L4HeaderLength { get; init; }

    /// <summary>L4 bytes (header and payload) according to the IP length fields, Ethernet padding excluded.</summary>
    public int L4Length { get; init; }

    /// <summary>The IP packet is a fragment (any fragment, first included).</summary>
    public bool IsFragment { get; init; }

    /// <summary>L2 plus the IP/ARP length: the frame without Ethernet padding.</summary>
    public int PacketLength => L4Offset != 0 ? L4Offset + L4Length : L2Length + L3Length;
}
