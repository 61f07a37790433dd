using System.Buffers.Binary;
using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class PacketParserTests
{
    private static readonly MacAddress SrcMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress DstMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly byte[] Src6 = Convert.FromHexString("fd000000000000000000000000000001");
    private static readonly byte[] Dst6 = Convert.FromHexString("fd000000000000000000000000000002");

    /// <summary>One frame of each kind the builder makes, tagged and untagged, plus hand-made QinQ and IPv6 extension frames.</summary>
    private static List<byte[]> SampleFrames()
    {
        var frames = new List<byte[]>();
        foreach (ushort? vlan in new ushort?[] { null, 42 })
        {
            frames.Add(Build(f => PacketBuilder.Udp4(f, SrcMac, DstMac, 1, 2, 3, 4, 100, vlan)));
            frames.Add(Build(f => PacketBuilder.Udp6(f, SrcMac, DstMac, Src6, Dst6, 3, 4, 120, vlan)));
            frames.Add(Build(f => PacketBuilder.Tcp4(f, SrcMac, DstMac, 1, 2, 3, 4, 80, vlan: vlan)));
            frames.Add(Build(f => PacketBuilder.IcmpEchoRequest4(f, SrcMac, DstMac, 1, 2, 3, 4, 70, vlan)));
            frames.Add(Build(f => PacketBuilder.ArpRequest(f, SrcMac, 1, 2, vlan)));
        }

        frames.Add(QinQUdp4());
        frames.Add(Ipv6WithExtensions());
        return frames;
    }

    [Fact]
    public void Truncation_at_every_length_returns_false_and_never_throws()
    {
        foreach (byte[] frame in SampleFrames())
        {
            for (int length = 0; length < frame.Length; length++)
            {
                Assert.False(PacketParser.TryParse(frame.AsSpan(0, length), out PacketInfo info), $"length {length} of {frame.Length}");
                Assert.Equal(default, info);
            }

            Assert.True(PacketParser.TryParse(frame, out _));
        }
    }

    [Fact]
    public void Ethernet_padding_after_the_ip_packet_is_ignored()
    {
        var frame = new byte[60];
        PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 42);
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(8, info.L4Length);
        Assert.Equal(42, info.PacketLength);
    }

    [Fact]
    public void QinQ_reports_both_tags()
    {
        byte[] frame = QinQUdp4();
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(22, info.L2Length);
        Assert.Equal(2, info.VlanCount);
        Assert.Equal(100, info.OuterVlanId);
        Assert.Equal(200, info.InnerVlanId);
        Assert.Equal(EtherTypes.Ipv4, info.EtherType);
        Assert.Equal(L3Type.Ipv4, info.L3Type);
        Assert.Equal(22, info.L3Offset);
        Assert.Equal(42, info.L4Offset);
        Assert.Equal(IpProtocols.Udp, info.L4Protocol);
        Assert.Equal(frame.Length, info.PacketLength);
    }

    [Fact]
    public void Three_tags_stop_at_two_with_no_l3()
    {
        var frame = new byte[80];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherTypes.QinQ);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), EtherTypes.Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), EtherTypes.Vlan);
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(2, info.VlanCount);
        Assert.Equal(22, info.L2Length);
        Assert.Equal(EtherTypes.Vlan, info.EtherType);
        Assert.Equal(L3Type.None, info.L3Type);
    }

    [Fact]
    public void Unknown_ethertype_is_l2_only()
    {
        var frame = new byte[60];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x88CC); // LLDP
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(L3Type.None, info.L3Type);
        Assert.Equal(14, info.L2Length);
        Assert.Equal(0x88CC, info.EtherType);
        Assert.Equal(0, info.L4Offset);
        Assert.Equal(14, info.PacketLength);
    }

    [Fact]
    public void Ipv6_extension_headers_are_skipped()
    {
        byte[] frame = Ipv6WithExtensions();
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(L3Type.Ipv6, info.L3Type);
        Assert.Equal(40 + 8 + 16, info.L3Length);
        Assert.Equal(IpProtocols.Udp, info.L4Protocol);
        Assert.Equal(14 + 64, info.L4Offset);
        Assert.Equal(8, info.L4HeaderLength);
        Assert.Equal(12, info.L4Length);
        Assert.False(info.IsFragment);
    }

    [Fact]
    public void Ipv4_later_fragment_has_no_l4_header()
    {
        var frame = new byte[60];
        PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 60);
        var ip = new Ipv4Header(frame.AsSpan(14));
        ip.FragmentOffset = 100;
        frame[34 + 4] = 0xFF; // UDP length now nonsense: must not matter
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.True(info.IsFragment);
        Assert.Equal(IpProtocols.Udp, info.L4Protocol);
        Assert.Equal(0, info.L4HeaderLength);
        Assert.Equal(26, info.L4Length);

        ip.FragmentOffset = 0;
        ip.MoreFragments = true; // first fragment: header there, UDP length may exceed this fragment
        Assert.True(PacketParser.TryParse(frame, out info));
        Assert.True(info.IsFragment);
        Assert.Equal(8, info.L4HeaderLength);

        ip.MoreFragments = false; // not a fragment: UDP length must fit
        Assert.False(PacketParser.TryParse(frame, out _));
    }

    [Fact]
    public void Ipv6_later_fragment_stops_at_the_fragment_header()
    {
        var frame = new byte[14 + 40 + 8 + 16];
        new EthernetHeader(frame).EtherType = EtherTypes.Ipv6;
        var ip = new Ipv6Header(frame.AsSpan(14));
        ip.Version = 6;
        ip.PayloadLength = 24;
        ip.NextHeader = IpProtocols.Ipv6Fragment;
        frame[54] = IpProtocols.Tcp;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(56), 8 << 3); // offset 8 units
        Assert.True(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.True(info.IsFragment);
        Assert.Equal(IpProtocols.Tcp, info.L4Protocol);
        Assert.Equal(48, info.L3Length);
        Assert.Equal(0, info.L4HeaderLength);
        Assert.Equal(16, info.L4Length);
    }

    [Theory]
    [InlineData(0, 0x46)] // IHL 6 with TotalLength 20 < header
    [InlineData(0, 0x44)] // IHL 4
    [InlineData(0, 0x55)] // version 5
    [InlineData(1, 0xFF)] // total length > frame
    [InlineData(2, 0x00)] // UDP length < 8
    [InlineData(3, 0x00)] // TCP data offset 4
    public void Inconsistent_ipv4_lengths_return_false(int corruption, byte value)
    {
        var frame = new byte[100];
        int length = corruption == 3
            ? PacketBuilder.Tcp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 100)
            : PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 100);
        Assert.True(PacketParser.TryParse(frame.AsSpan(0, length), out _));
        switch (corruption)
        {
            case 0:
                frame[14] = value;
                if (value == 0x46)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 20);
                }

                break;
            case 1:
                frame[16] = value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), 7);
                break;
            case 3:
                frame[34 + 12] = 0x40;
                break;
        }

        Assert.False(PacketParser.TryParse(frame, out PacketInfo info));
        Assert.Equal(default, info);
    }

    [Fact]
    public void Arp_with_wrong_address_lengths_returns_false()
    {
        var frame = new byte[42];
        PacketBuilder.ArpRequest(frame, SrcMac, 1, 2);
        frame[14 + 4] = 8;
        Assert.False(PacketParser.TryParse(frame, out _));
    }

    [Fact]
    public void Fuzz_random_buffers_never_throw_and_results_stay_inside_the_frame()
    {
        var random = new Random(20240601);
        List<byte[]> samples = SampleFrames();
        var buffer = new byte[256];
        int accepted = 0;
        for (int i = 0; i < 10_000; i++)
        {
            int length = random.Next(buffer.Length + 1);
            Span<byte> frame = buffer.AsSpan(0, length);
            random.NextBytes(frame);
            switch (i % 4)
            {
                case 0: // pure noise
                    break;
                case 1: // noise behind a plausible EtherType and IP version
                    if (length >= 15)
                    {
                        ushort[] types = [EtherTypes.Ipv4, EtherTypes.Ipv6, EtherTypes.Arp, EtherTypes.Vlan, EtherTypes.QinQ];
                        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], types[random.Next(types.Length)]);
                        frame[14] = (byte)((random.Next(2) == 0 ? 0x40 : 0x60) | random.Next(16));
                    }

                    break;
                default: // a valid frame with a few bytes flipped, possibly cut short
                    byte[] sample = samples[random.Next(samples.Count)];
                    length = Math.Min(sample.Length, random.Next(sample.Length / 2, buffer.Length));
                    frame = buffer.AsSpan(0, length);
                    sample.AsSpan(0, length).CopyTo(frame);
                    for (int flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        frame[random.Next(length)] = (byte)random.Next(256);
                    }

                    break;
            }

            if (PacketParser.TryParse(frame, out PacketInfo info))
            {
                accepted++;
                CheckInvariants(info, frame.Length);
            }
            else
            {
                Assert.Equal(default, info);
            }
        }

        Assert.InRange(accepted, 100, 9_900); // both outcomes were exercised
    }

    private static void CheckInvariants(PacketInfo info, int frameLength)
    {
        Assert.InRange(info.L2Length, 14, 22);
        Assert.InRange(info.VlanCount, 0, 2);
        Assert.Equal(14 + (4 * info.VlanCount), info.L2Length);
        Assert.InRange(info.L2Length + info.L3Length, info.L2Length, frameLength);
        Assert.InRange(info.PacketLength, info.L2Length, frameLength);
        if (info.L3Type is L3Type.Ipv4 or L3Type.Ipv6)
        {
            Assert.Equal(info.L3Offset + info.L3Length, info.L4Offset);
            Assert.InRange(info.L4Offset + info.L4Length, info.L4Offset, frameLength);
            Assert.InRange(info.L4HeaderLength, 0, info.L4Length);
        }
        else
        {
            Assert.Equal(0, info.L4Offset);
            Assert.Equal(0, info.L4Length);
            Assert.Equal(0, info.L4HeaderLength);
        }
    }

    private static byte[] Build(Func<byte[], int> build)
    {
        var buffer = new byte[256];
        int length = build(buffer);
        return buffer[..length];
    }

    /// <summary>802.1ad S-tag 100, 802.1Q C-tag 200, IPv4/UDP: the UDP4 frame with the tags spliced in.</summary>
    private static byte[] QinQUdp4()
    {
        var inner = new byte[80];
        PacketBuilder.Udp4(inner, SrcMac, DstMac, 1, 2, 3, 4, 80);
        var frame = new byte[88];
        inner.AsSpan(0, 12).CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherTypes.QinQ);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), EtherTypes.Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), 200);
        inner.AsSpan(12).CopyTo(frame.AsSpan(20));
        return frame;
    }

    /// <summary>IPv6 with hop-by-hop (8 bytes) and destination options (16 bytes), then a 12-byte UDP datagram.</summary>
    private static byte[] Ipv6WithExtensions()
    {
        var frame = new byte[14 + 40 + 8 + 16 + 12];
        new EthernetHeader(frame).EtherType = EtherTypes.Ipv6;
        var ip = new Ipv6Header(frame.AsSpan(14));
        ip.Version = 6;
        ip.PayloadLength = 8 + 16 + 12;
        ip.NextHeader = IpProtocols.Ipv6HopByHop;
        ip.HopLimit = 64;
        frame[54] = IpProtocols.Ipv6DestinationOptions;
        frame[55] = 0;
        frame[62] = IpProtocols.Udp;
        frame[63] = 1; // (1 + 1) * 8 = 16 bytes
        var udp = new UdpHeader(frame.AsSpan(78));
        udp.SourcePort = 3;
        udp.DestinationPort = 4;
        udp.DatagramLength = 12;
        return frame;
    }
}
