using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// Writes complete test frames (Ethernet II, optional 802.1Q tag, no FCS) into a caller's buffer and returns
/// their length. IP and L4 checksums are valid; payload bytes follow <see cref="FillPattern"/>. Nothing allocates.
/// </summary>
public static class PacketBuilder
{
    private const int MaxVlanId = 0x0FFF;
    private const ushort MaxIpLength = ushort.MaxValue;

    private static readonly byte[] s_pattern = CreatePattern();

    /// <summary>a.b.c.d as a host-order value (same as <see cref="Ipv4Address.Make"/>).</summary>
    public static uint Ip(byte a, byte b, byte c, byte d) => Ipv4Address.Make(a, b, c, d);

    /// <summary>Fills <paramref name="payload"/> with the deterministic pattern: byte i is <c>(byte)i</c>.</summary>
    public static void FillPattern(Span<byte> payload)
    {
        while (payload.Length > s_pattern.Length)
        {
            s_pattern.CopyTo(payload);
            payload = payload[s_pattern.Length..];
        }

        s_pattern.AsSpan(0, payload.Length).CopyTo(payload);
    }

    /// <summary>
    /// Ethernet/[802.1Q]/IPv4/UDP of exactly <paramref name="frameLength"/> bytes (at least 42, 46 with a VLAN tag).
    /// IPv4: IHL 5, TTL 64, ID 0, no flags.
    /// </summary>
    public static int Udp4(
        Span<byte> dst, MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp,
        ushort srcPort, ushort dstPort, int frameLength, ushort? vlan = null)
    {
        int l2 = L2Length(vlan);
        Span<byte> frame = Frame(dst, frameLength, l2, Ipv4Header.MinLength + UdpHeader.Length, MaxIpLength, vlan);
        WriteL2(frame, srcMac, dstMac, EtherTypes.Ipv4, vlan);
        Span<byte> ip = frame[l2..];
        WriteIpv4(ip, IpProtocols.Udp, srcIp, dstIp);
        WriteUdp(ip[Ipv4Header.MinLength..], srcPort, dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(ip[(Ipv4Header.MinLength + 6)..], Checksum.L4Ipv4(ip));
        return frameLength;
    }

    /// <summary>
    /// Ethernet/[802.1Q]/IPv6/UDP of exactly <paramref name="frameLength"/> bytes (at least 62, 66 with a VLAN tag).
    /// <paramref name="srcIp"/> and <paramref name="dstIp"/> are 16 bytes each. Hop limit 64, traffic class and flow label 0.
    /// </summary>
    public static int Udp6(
        Span<byte> dst, MacAddress srcMac, MacAddress dstMac, ReadOnlySpan<byte> srcIp, ReadOnlySpan<byte> dstIp,
        ushort srcPort, ushort dstPort, int frameLength, ushort? vlan = null)
    {
        if (srcIp.Length != Ipv6Header.AddressLength)
        {
            ThrowHelper.Argument(nameof(srcIp), "An IPv6 address is 16 bytes.");
        }

        if (dstIp.Length != Ipv6Header.AddressLength)
        {
            ThrowHelper.Argument(nameof(dstIp), "An IPv6 address is 16 bytes.");
        }

        int l2 = L2Length(vlan);
        Span<byte> frame = Frame(dst, frameLength, l2, Ipv6Header.Length + UdpHeader.Length, Ipv6Header.Length + MaxIpLength, vlan);
        WriteL2(frame, srcMac, dstMac, EtherTypes.Ipv6, vlan);
        Span<byte> ip = frame[l2..];
        var ipv6 = new Ipv6Header(ip);
        BinaryPrimitives.WriteUInt32BigEndian(ip, 6U << 28);
        ipv6.PayloadLength = (ushort)(ip.Length - Ipv6Header.Length);
        ipv6.NextHeader = IpProtocols.Udp;
        ipv6.HopLimit = TestPmdDefaults.Ttl;
        srcIp.CopyTo(ipv6.Source);
        dstIp.CopyTo(ipv6.Destination);
        WriteUdp(ip[Ipv6Header.Length..], srcPort, dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(ip[(Ipv6Header.Length + 6)..], Checksum.L4Ipv6(ip));
        return frameLength;
    }

    /// <summary>
    /// Ethernet/[802.1Q]/IPv4/TCP of exactly <paramref name="frameLength"/> bytes (at least 54, 58 with a VLAN tag),
    /// data offset 5, window 65535, a SYN unless <paramref name="flags"/> says otherwise; bytes past the header are payload.
    /// </summary>
    public static int Tcp4(
        Span<byte> dst, MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp,
        ushort srcPort, ushort dstPort, int frameLength,
        TcpFlags flags = TcpFlags.Syn, uint sequence = 0, uint acknowledgment = 0, ushort? vlan = null)
    {
        int l2 = L2Length(vlan);
        Span<byte> frame = Frame(dst, frameLength, l2, Ipv4Header.MinLength + TcpHeader.MinLength, MaxIpLength, vlan);
        WriteL2(frame, srcMac, dstMac, EtherTypes.Ipv4, vlan);
        Span<byte> ip = frame[l2..];
        WriteIpv4(ip, IpProtocols.Tcp, srcIp, dstIp);
        var tcp = new TcpHeader(ip[Ipv4Header.MinLength..]);
        tcp.SourcePort = srcPort;
        tcp.DestinationPort = dstPort;
        tcp.SequenceNumber = sequence;
        tcp.AcknowledgmentNumber = acknowledgment;
        tcp.Bytes[12] = 5 << 4;
        tcp.Flags = flags;
        tcp.Window = ushort.MaxValue;
        tcp.Checksum = 0;
        tcp.UrgentPointer = 0;
        FillPattern(tcp.Bytes[TcpHeader.MinLength..]);
        tcp.Checksum = Checksum.L4Ipv4(ip);
        return frameLength;
    }

    /// <summary>
    /// Ethernet/[802.1Q]/IPv4/ICMP echo request of exactly <paramref name="frameLength"/> bytes
    /// (at least 42, 46 with a VLAN tag); bytes past the 8-byte ICMP header are echo data.
    /// </summary>
    public static int IcmpEchoRequest4(
        Span<byte> dst, MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp,
        ushort identifier, ushort sequence, int frameLength, ushort? vlan = null)
    {
        int l2 = L2Length(vlan);
        Span<byte> frame = Frame(dst, frameLength, l2, Ipv4Header.MinLength + IcmpHeader.Length, MaxIpLength, vlan);
        WriteL2(frame, srcMac, dstMac, EtherTypes.Ipv4, vlan);
        Span<byte> ip = frame[l2..];
        WriteIpv4(ip, IpProtocols.Icmp, srcIp, dstIp);
        var icmp = new IcmpHeader(ip[Ipv4Header.MinLength..]);
        icmp.Type = IcmpHeader.EchoRequest;
        icmp.Code = 0;
        icmp.Checksum = 0;
        icmp.Identifier = identifier;
        icmp.Sequence = sequence;
        FillPattern(icmp.Payload);
        icmp.Checksum = Checksum.L4Ipv4(ip);
        return frameLength;
    }

    /// <summary>
    /// Broadcast Ethernet/[802.1Q]/ARP request "who has <paramref name="targetIp"/>, tell <paramref name="senderIp"/>":
    /// 42 bytes (46 with a VLAN tag), unpadded; target MAC zero.
    /// </summary>
    public static int ArpRequest(Span<byte> dst, MacAddress srcMac, uint senderIp, uint targetIp, ushort? vlan = null)
    {
        int l2 = L2Length(vlan);
        int frameLength = l2 + ArpHeader.Length;
        Span<byte> frame = Frame(dst, frameLength, l2, ArpHeader.Length, ArpHeader.Length, vlan);
        WriteL2(frame, srcMac, MacAddress.Broadcast, EtherTypes.Arp, vlan);
        var arp = new ArpHeader(frame[l2..]);
        arp.HardwareType = ArpHeader.HardwareTypeEthernet;
        arp.ProtocolType = EtherTypes.Ipv4;
        arp.HardwareLength = MacAddress.Length;
        arp.ProtocolLength = 4;
        arp.Opcode = ArpHeader.Request;
        arp.SenderMac = srcMac;
        arp.SenderIp = senderIp;
        arp.TargetMac = MacAddress.Zero;
        arp.TargetIp = targetIp;
        return frameLength;
    }

    private static int L2Length(ushort? vlan) => vlan.HasValue ? EthernetHeader.Length + VlanHeader.Length : EthernetHeader.Length;

    /// <summary>Validates the arguments common to every builder and returns the frame's slice of <paramref name="dst"/>.</summary>
    private static Span<byte> Frame(Span<byte> dst, int frameLength, int l2Length, int minAfterL2, int maxAfterL2, ushort? vlan)
    {
        if (vlan > MaxVlanId)
        {
            ThrowHelper.OutOfRange(nameof(vlan), vlan.GetValueOrDefault(), "A VLAN ID is 12 bits (0..4095).");
        }

        if (frameLength < l2Length + minAfterL2)
        {
            ThrowHelper.OutOfRange(
                nameof(frameLength), frameLength, $"The frame needs at least {l2Length + minAfterL2} bytes for its headers.");
        }

        if (frameLength > l2Length + maxAfterL2)
        {
            ThrowHelper.OutOfRange(
                nameof(frameLength), frameLength, $"The IP length field allows at most {l2Length + maxAfterL2} bytes.");
        }

        if (dst.Length < frameLength)
        {
            ThrowHelper.TooShort(nameof(dst), dst.Length, frameLength, "The frame");
        }

        return dst[..frameLength];
    }

    private static void WriteL2(Span<byte> frame, MacAddress srcMac, MacAddress dstMac, ushort etherType, ushort? vlan)
    {
        var ethernet = new EthernetHeader(frame);
        ethernet.Destination = dstMac;
        ethernet.Source = srcMac;
        if (vlan is ushort id)
        {
            ethernet.EtherType = EtherTypes.Vlan;
            var tag = new VlanHeader(ethernet.Payload);
            tag.Tci = id;
            tag.InnerEtherType = etherType;
        }
        else
        {
            ethernet.EtherType = etherType;
        }
    }

    /// <summary>An option-less IPv4 header whose total length is the whole of <paramref name="ip"/>, checksum set.</summary>
    private static void WriteIpv4(Span<byte> ip, byte protocol, uint srcIp, uint dstIp)
    {
        var header = new Ipv4Header(ip);
        header.Bytes[0] = 0x45;
        header.Tos = 0;
        header.TotalLength = (ushort)ip.Length;
        header.Identification = 0;
        header.FlagsAndFragmentOffset = 0;
        header.Ttl = TestPmdDefaults.Ttl;
        header.Protocol = protocol;
        header.Source = srcIp;
        header.Destination = dstIp;
        header.UpdateChecksum();
    }

    /// <summary>A UDP header spanning all of <paramref name="datagram"/>, checksum zero, payload patterned.</summary>
    private static void WriteUdp(Span<byte> datagram, ushort srcPort, ushort dstPort)
    {
        var udp = new UdpHeader(datagram);
        udp.SourcePort = srcPort;
        udp.DestinationPort = dstPort;
        udp.DatagramLength = (ushort)datagram.Length;
        udp.Checksum = 0;
        FillPattern(udp.Payload);
    }

    private static byte[] CreatePattern()
    {
        var pattern = new byte[256];
        for (int i = 0; i < pattern.Length; i++)
        {
            pattern[i] = (byte)i;
        }

        return pattern;
    }
}
