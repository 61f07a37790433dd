using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// Finds the L2/L3/L4 layout of an Ethernet frame (no FCS) without allocating. Never throws and never reads
/// outside the span: a header that is truncated or contradicts its length fields makes it return false.
/// Unknown EtherTypes and L4 protocols are not errors: they come back as <see cref="L3Type.None"/> or with
/// <see cref="PacketInfo.L4HeaderLength"/> 0.
/// </summary>
public static class PacketParser
{
    private const int MaxVlanTags = 2;

    public static bool TryParse(ReadOnlySpan<byte> frame, out PacketInfo info)
    {
        info = default;
        if (frame.Length < EthernetHeader.Length)
        {
            return false;
        }

        int l2 = EthernetHeader.Length;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        int vlanCount = 0;
        ushort outerVlan = 0;
        ushort innerVlan = 0;
        while (vlanCount < MaxVlanTags && etherType is EtherTypes.Vlan or EtherTypes.QinQ)
        {
            if (frame.Length - l2 < VlanHeader.Length)
            {
                return false;
            }

            ushort vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[l2..]) & 0x0FFF);
            if (vlanCount == 0)
            {
                outerVlan = vlanId;
            }
            else
            {
                innerVlan = vlanId;
            }

            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(l2 + 2)..]);
            l2 += VlanHeader.Length;
            vlanCount++;
        }

        var l2Info = new PacketInfo
        {
            L2Length = l2,
            VlanCount = vlanCount,
            OuterVlanId = outerVlan,
            InnerVlanId = innerVlan,
            EtherType = etherType,
        };
        ReadOnlySpan<byte> l3 = frame[l2..];
        switch (etherType)
        {
            case EtherTypes.Ipv4:
                return TryParseIpv4(l3, l2Info, out info);
            case EtherTypes.Ipv6:
                return TryParseIpv6(l3, l2Info, out info);
            case EtherTypes.Arp:
                return TryParseArp(l3, l2Info, out info);
            default:
                info = l2Info;
                return true;
        }
    }

    private static bool TryParseArp(ReadOnlySpan<byte> arp, PacketInfo l2, out PacketInfo info)
    {
        info = default;
        // Ethernet/IPv4 ARP only (RFC 826): hardware length 6, protocol length 4.
        if (arp.Length < ArpHeader.Length || arp[4] != MacAddress.Length || arp[5] != 4)
        {
            return false;
        }

        info = l2 with { L3Type = L3Type.Arp, L3Length = ArpHeader.Length };
        return true;
    }

    private static bool TryParseIpv4(ReadOnlySpan<byte> ip, PacketInfo l2, out PacketInfo info)
    {
        info = default;
        if (ip.Length < Ipv4Header.MinLength || (ip[0] >> 4) != 4)
        {
            return false;
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (headerLength < Ipv4Header.MinLength || totalLength < headerLength || totalLength > ip.Length)
        {
            return false;
        }

        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        bool fragment = (flagsAndOffset & 0x3FFF) != 0;
        bool laterFragment = (flagsAndOffset & 0x1FFF) != 0;
        byte protocol = ip[9];
        ReadOnlySpan<byte> l4 = ip[headerLength..totalLength];
        int l4HeaderLength = 0;
        if (!laterFragment && !TryL4HeaderLength(l4, protocol, fragment, out l4HeaderLength))
        {
            return false;
        }

        info = l2 with
        {
            L3Type = L3Type.Ipv4,
            L3Length = headerLength,
            L4Protocol = protocol,
            L4Offset = l2.L2Length + headerLength,
            L4HeaderLength = l4HeaderLength,
            L4Length = l4.Length,
            IsFragment = fragment,
        };
        return true;
    }

    private static bool TryParseIpv6(ReadOnlySpan<byte> ip, PacketInfo l2, out PacketInfo info)
    {
        info = default;
        if (ip.Length < Ipv6Header.Length || (ip[0] >> 4) != 6)
        {
            return false;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (payloadLength > ip.Length - Ipv6Header.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> payload = ip.Slice(Ipv6Header.Length, payloadLength);
        if (!Ipv6ExtensionHeaders.TrySkip(
            payload, ip[6], out byte protocol, out int extensionLength, out bool fragment, out bool laterFragment))
        {
            return false;
        }

        ReadOnlySpan<byte> l4 = payload[extensionLength..];
        int l4HeaderLength = 0;
        if (!laterFragment && !TryL4HeaderLength(l4, protocol, fragment, out l4HeaderLength))
        {
            return false;
        }

        info = l2 with
        {
            L3Type = L3Type.Ipv6,
            L3Length = Ipv6Header.Length + extensionLength,
            L4Protocol = protocol,
            L4Offset = l2.L2Length + Ipv6Header.Length + extensionLength,
            L4HeaderLength = l4HeaderLength,
            L4Length = l4.Length,
            IsFragment = fragment,
        };
        return true;
    }

    /// <summary>Validates the L4 header of a known protocol; unknown protocols pass with length 0.</summary>
    private static bool TryL4HeaderLength(ReadOnlySpan<byte> l4, byte protocol, bool fragment, out int length)
    {
        length = 0;
        switch (protocol)
        {
            case IpProtocols.Udp:
                if (l4.Length < UdpHeader.Length)
                {
                    return false;
                }

                int datagramLength = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
                // A first fragment's UDP length covers the whole datagram, not just this fragment.
                if (datagramLength < UdpHeader.Length || (!fragment && datagramLength > l4.Length))
                {
                    return false;
                }

                length = UdpHeader.Length;
                return true;
            case IpProtocols.Tcp:
                if (l4.Length < TcpHeader.MinLength)
                {
                    return false;
                }

                int headerLength = (l4[12] >> 4) * 4;
                if (headerLength < TcpHeader.MinLength || headerLength > l4.Length)
                {
                    return false;
                }

                length = headerLength;
                return true;
            case IpProtocols.Icmp:
            case IpProtocols.IcmpV6:
                if (l4.Length < IcmpHeader.Length)
                {
                    return false;
                }

                length = IcmpHeader.Length;
                return true;
            default:
                return true;
        }
    }
}
