using System.Buffers.Binary;
using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class PacketBuilderTests
{
    private static readonly MacAddress SrcMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress DstMac = MacAddress.Parse("02:00:00:00:00:00");
    private static readonly byte[] Src6 = Convert.FromHexString("fd000000000000000000000000000001");
    private static readonly byte[] Dst6 = Convert.FromHexString("fd000000000000000000000000000002");

    public static TheoryData<int, int?> Lengths()
    {
        var data = new TheoryData<int, int?>();
        foreach (int length in new[] { 66, 67, 127, 128, 511, 1024, 1514, 1518, 9000 })
        {
            data.Add(length, null);
            data.Add(length, 100);
        }

        return data;
    }

    [Fact]
    public void TestPmd_default_udp_frame_matches_golden_bytes()
    {
        // Computed independently (Python struct + RFC 1071): testpmd txonly defaults, 64 bytes.
        byte[] expected = Convert.FromHexString(
            "020000000000020000000001080045000032000000004011ee93c6120001c612000200090009001e04ff"
            + "000102030405060708090a0b0c0d0e0f101112131415");
        var frame = new byte[128];
        int length = PacketBuilder.Udp4(
            frame, SrcMac, DstMac, TestPmdDefaults.SourceIp, TestPmdDefaults.DestinationIp,
            TestPmdDefaults.UdpPort, TestPmdDefaults.UdpPort, TestPmdDefaults.FrameLength);
        Assert.Equal(64, length);
        Assert.Equal(expected, frame[..length]);
        Assert.All(frame[length..], b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Udp4_frames_parse_back_with_valid_checksums(int frameLength, int? vlan)
    {
        var frame = new byte[frameLength];
        int length = PacketBuilder.Udp4(frame, SrcMac, DstMac, 0x0A000001, 0x0A000002, 1234, 5678, frameLength, (ushort?)vlan);
        Assert.Equal(frameLength, length);

        PacketInfo info = ParseAndCheckL2(frame, vlan, EtherTypes.Ipv4);
        Assert.Equal(L3Type.Ipv4, info.L3Type);
        Assert.Equal(IpProtocols.Udp, info.L4Protocol);
        Assert.Equal(UdpHeader.Length, info.L4HeaderLength);
        Assert.Equal(frameLength - info.L2Length - 20, info.L4Length);

        Ipv4Header ip = CheckIpv4(frame, info, 0x0A000001, 0x0A000002);
        var udp = new UdpHeader(frame.AsSpan(info.L4Offset));
        Assert.Equal(1234, udp.SourcePort);
        Assert.Equal(5678, udp.DestinationPort);
        Assert.Equal(info.L4Length, udp.DatagramLength);
        Assert.NotEqual(0, udp.Checksum);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv4L4Sum(ip.Source, ip.Destination, IpProtocols.Udp, frame.AsSpan(info.L4Offset)));
        CheckPattern(udp.Payload);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Udp6_frames_parse_back_with_valid_checksums(int frameLength, int? vlan)
    {
        var frame = new byte[frameLength];
        int length = PacketBuilder.Udp6(frame, SrcMac, DstMac, Src6, Dst6, 1234, 5678, frameLength, (ushort?)vlan);
        Assert.Equal(frameLength, length);

        PacketInfo info = ParseAndCheckL2(frame, vlan, EtherTypes.Ipv6);
        Assert.Equal(L3Type.Ipv6, info.L3Type);
        Assert.Equal(Ipv6Header.Length, info.L3Length);
        Assert.Equal(IpProtocols.Udp, info.L4Protocol);
        Assert.Equal(frameLength - info.L2Length - 40, info.L4Length);

        Assert.True(Ipv6Header.TryCreate(frame.AsSpan(info.L3Offset), out Ipv6Header ip));
        Assert.Equal(info.L4Length, ip.PayloadLength);
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal(Src6, ip.Source.ToArray());
        Assert.Equal(Dst6, ip.Destination.ToArray());
        var udp = new UdpHeader(frame.AsSpan(info.L4Offset));
        Assert.Equal(1234, udp.SourcePort);
        Assert.Equal(5678, udp.DestinationPort);
        Assert.Equal(info.L4Length, udp.DatagramLength);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv6L4Sum(Src6, Dst6, IpProtocols.Udp, frame.AsSpan(info.L4Offset)));
        CheckPattern(udp.Payload);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Tcp4_frames_parse_back_with_valid_checksums(int frameLength, int? vlan)
    {
        var frame = new byte[frameLength];
        PacketBuilder.Tcp4(frame, SrcMac, DstMac, 0x0A000001, 0x0A000002, 40000, 80, frameLength, vlan: (ushort?)vlan);

        PacketInfo info = ParseAndCheckL2(frame, vlan, EtherTypes.Ipv4);
        Assert.Equal(IpProtocols.Tcp, info.L4Protocol);
        Assert.Equal(TcpHeader.MinLength, info.L4HeaderLength);
        Ipv4Header ip = CheckIpv4(frame, info, 0x0A000001, 0x0A000002);
        Assert.True(TcpHeader.TryCreate(frame.AsSpan(info.L4Offset), out TcpHeader tcp));
        Assert.Equal(40000, tcp.SourcePort);
        Assert.Equal(80, tcp.DestinationPort);
        Assert.Equal(TcpFlags.Syn, tcp.Flags);
        Assert.Equal(0U, tcp.SequenceNumber);
        Assert.Equal(5, tcp.DataOffset);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv4L4Sum(ip.Source, ip.Destination, IpProtocols.Tcp, frame.AsSpan(info.L4Offset)));
        CheckPattern(tcp.Payload);
    }

    [Fact]
    public void Tcp4_takes_flags_and_sequence_numbers()
    {
        var frame = new byte[54];
        PacketBuilder.Tcp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 54, TcpFlags.Ack | TcpFlags.Psh, 0x11223344, 0x55667788);
        var tcp = new TcpHeader(frame.AsSpan(34));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, tcp.Flags);
        Assert.Equal(0x11223344U, tcp.SequenceNumber);
        Assert.Equal(0x55667788U, tcp.AcknowledgmentNumber);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv4L4Sum(1, 2, IpProtocols.Tcp, tcp.Bytes));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void IcmpEchoRequest4_frames_parse_back_with_valid_checksums(int frameLength, int? vlan)
    {
        var frame = new byte[frameLength];
        PacketBuilder.IcmpEchoRequest4(frame, SrcMac, DstMac, 0x0A000001, 0x0A000002, 0x1234, 7, frameLength, (ushort?)vlan);

        PacketInfo info = ParseAndCheckL2(frame, vlan, EtherTypes.Ipv4);
        Assert.Equal(IpProtocols.Icmp, info.L4Protocol);
        CheckIpv4(frame, info, 0x0A000001, 0x0A000002);
        var icmp = new IcmpHeader(frame.AsSpan(info.L4Offset));
        Assert.Equal(IcmpHeader.EchoRequest, icmp.Type);
        Assert.Equal(0, icmp.Code);
        Assert.Equal(0x1234, icmp.Identifier);
        Assert.Equal(7, icmp.Sequence);
        Assert.Equal(0xFFFF, ReferenceChecksum.Sum(frame.AsSpan(info.L4Offset))); // ICMPv4: no pseudo header
        CheckPattern(icmp.Payload);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4095)]
    public void ArpRequest_is_a_broadcast_who_has(int? vlan)
    {
        var frame = new byte[64];
        int length = PacketBuilder.ArpRequest(frame, SrcMac, 0x0A000001, 0x0A000002, (ushort?)vlan);
        Assert.Equal(vlan is null ? 42 : 46, length);

        var ethernet = new EthernetHeader(frame);
        Assert.Equal(MacAddress.Broadcast, ethernet.Destination);
        Assert.Equal(SrcMac, ethernet.Source);
        Assert.True(PacketParser.TryParse(frame.AsSpan(0, length), out PacketInfo info));
        Assert.Equal(L3Type.Arp, info.L3Type);
        Assert.Equal(EtherTypes.Arp, info.EtherType);
        Assert.Equal(vlan ?? 0, info.OuterVlanId);
        var arp = new ArpHeader(frame.AsSpan(info.L3Offset));
        Assert.True(arp.IsEthernetIpv4);
        Assert.Equal(ArpHeader.Request, arp.Opcode);
        Assert.Equal(SrcMac, arp.SenderMac);
        Assert.Equal(0x0A000001U, arp.SenderIp);
        Assert.Equal(MacAddress.Zero, arp.TargetMac);
        Assert.Equal(0x0A000002U, arp.TargetIp);

        // Padded to the Ethernet minimum, it still parses.
        Assert.True(PacketParser.TryParse(frame.AsSpan(0, 60), out info));
        Assert.Equal(L3Type.Arp, info.L3Type);
    }

    [Fact]
    public void Minimum_lengths()
    {
        var frame = new byte[100];
        Assert.Equal(42, PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 42));
        Assert.Equal(46, PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 46, 1));
        Assert.Equal(62, PacketBuilder.Udp6(frame, SrcMac, DstMac, Src6, Dst6, 3, 4, 62));
        Assert.Equal(54, PacketBuilder.Tcp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 54));
        Assert.Equal(42, PacketBuilder.IcmpEchoRequest4(frame, SrcMac, DstMac, 1, 2, 3, 4, 42));

        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 41));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 45, 1));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp6(frame, SrcMac, DstMac, Src6, Dst6, 3, 4, 61));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Tcp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 53));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.IcmpEchoRequest4(frame, SrcMac, DstMac, 1, 2, 3, 4, 41));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, -1));
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        var frame = new byte[100];
        ArgumentException error = Assert.Throws<ArgumentException>("dst", () => PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 101));
        Assert.Contains("101", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("dst", () => PacketBuilder.ArpRequest(new byte[41], SrcMac, 1, 2));
        Assert.Throws<ArgumentException>("dst", () => PacketBuilder.ArpRequest(new byte[45], SrcMac, 1, 2, 7));
        Assert.Throws<ArgumentOutOfRangeException>("vlan", () => PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 64, 4096));
        Assert.Throws<ArgumentException>("srcIp", () => PacketBuilder.Udp6(frame, SrcMac, DstMac, new byte[4], Dst6, 3, 4, 64));
        Assert.Throws<ArgumentException>("dstIp", () => PacketBuilder.Udp6(frame, SrcMac, DstMac, Src6, new byte[15], 3, 4, 64));

        var big = new byte[70_000];
        Assert.Equal(14 + 65535, PacketBuilder.Udp4(big, SrcMac, DstMac, 1, 2, 3, 4, 14 + 65535));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp4(big, SrcMac, DstMac, 1, 2, 3, 4, 14 + 65536));
        Assert.Equal(14 + 40 + 65535, PacketBuilder.Udp6(big, SrcMac, DstMac, Src6, Dst6, 3, 4, 14 + 40 + 65535));
        Assert.Throws<ArgumentOutOfRangeException>("frameLength", () => PacketBuilder.Udp6(big, SrcMac, DstMac, Src6, Dst6, 3, 4, 14 + 40 + 65536));
    }

    [Fact]
    public void Builders_write_only_their_frame()
    {
        var buffer = new byte[200];
        Array.Fill(buffer, (byte)0xEE);
        PacketBuilder.Udp4(buffer, SrcMac, DstMac, 1, 2, 3, 4, 100);
        Assert.All(buffer[100..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void FillPattern_is_byte_index()
    {
        var payload = new byte[1000];
        PacketBuilder.FillPattern(payload);
        CheckPattern(payload);
    }

    private static PacketInfo ParseAndCheckL2(byte[] frame, int? vlan, ushort etherType)
    {
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        var ethernet = new EthernetHeader(frame);
        Assert.Equal(DstMac, ethernet.Destination);
        Assert.Equal(SrcMac, ethernet.Source);
        Assert.Equal(etherType, info.EtherType);
        Assert.Equal(frame.Length, info.PacketLength);
        if (vlan is int id)
        {
            Assert.Equal(EtherTypes.Vlan, ethernet.EtherType);
            Assert.Equal(18, info.L2Length);
            Assert.Equal(1, info.VlanCount);
            Assert.Equal(id, info.OuterVlanId);
            Assert.Equal(id, new VlanHeader(ethernet.Payload).VlanId);
        }
        else
        {
            Assert.Equal(etherType, ethernet.EtherType);
            Assert.Equal(14, info.L2Length);
            Assert.Equal(0, info.VlanCount);
        }

        return info;
    }

    private static Ipv4Header CheckIpv4(byte[] frame, PacketInfo info, uint source, uint destination)
    {
        Assert.True(Ipv4Header.TryCreate(frame.AsSpan(info.L3Offset), out Ipv4Header ip));
        Assert.Equal(20, info.L3Length);
        Assert.Equal(info.L3Offset + 20, info.L4Offset);
        Assert.Equal(frame.Length - info.L2Length, ip.TotalLength);
        Assert.Equal(64, ip.Ttl);
        Assert.False(ip.IsFragment);
        Assert.Equal(source, ip.Source);
        Assert.Equal(destination, ip.Destination);
        Assert.True(ip.IsChecksumValid);
        Assert.Equal(0xFFFF, ReferenceChecksum.Sum(frame.AsSpan(info.L3Offset, 20)));
        return ip;
    }

    private static void CheckPattern(ReadOnlySpan<byte> payload)
    {
        for (int i = 0; i < payload.Length; i++)
        {
            Assert.Equal((byte)i, payload[i]);
        }
    }
}
