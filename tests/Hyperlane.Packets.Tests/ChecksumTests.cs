using System.Buffers.Binary;
using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class ChecksumTests
{
    [Fact]
    public void Classic_ipv4_header_vector()
    {
        byte[] header =
        [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
            0x00, 0x00, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7,
        ];
        Assert.Equal(0xB861, Checksum.Ipv4Header(header));
        header[10] = 0x12; // the field is ignored
        header[11] = 0x34;
        Assert.Equal(0xB861, Checksum.Ipv4Header(header));
        header[10] = 0xB8;
        header[11] = 0x61;
        Assert.Equal(0xFFFF, Checksum.Ones(header));
    }

    [Fact]
    public void Ipv4_header_checksum_matches_the_reference_for_random_20_byte_and_optioned_headers()
    {
        var random = new Random(20);
        foreach (int length in new[] { 20, 24, 40, 60 })
        {
            for (int trial = 0; trial < 5000; trial++)
            {
                byte[] header = new byte[length];
                random.NextBytes(header);
                if (trial % 7 == 0)
                {
                    Array.Fill(header, (byte)0xFF); // sums that wrap to 0xFFFF
                }
                else if (trial % 11 == 0)
                {
                    Array.Clear(header); // and to 0
                }

                byte[] zeroed = (byte[])header.Clone();
                zeroed[10] = 0;
                zeroed[11] = 0;
                Assert.Equal((ushort)~ReferenceChecksum.Sum(zeroed), Checksum.Ipv4Header(header));
            }
        }
    }

    [Fact]
    public void Rfc1071_example_sum()
    {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        byte[] data = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7];
        Assert.Equal(0xDDF2, Checksum.Ones(data));
        Assert.Equal(0xDDF2, Checksum.Ones(data.AsSpan(0, 4), Checksum.Ones(data.AsSpan(4))));
    }

    [Theory]
    [InlineData(new byte[0], 0)]
    [InlineData(new byte[] { 0xAB }, 0xAB00)]
    [InlineData(new byte[] { 0xAB, 0xCD, 0xEF }, 0x9ACE)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, 0xFFFF)]
    [InlineData(new byte[] { 0x80, 0x00, 0x80, 0x00 }, 0x0001)]
    public void Small_sums(byte[] data, int expected) => Assert.Equal(expected, Checksum.Ones(data));

    [Fact]
    public void Fold_carries()
    {
        Assert.Equal(0, Checksum.Fold(0u));
        Assert.Equal(0xFFFF, Checksum.Fold(0xFFFFu));
        Assert.Equal(0x0001, Checksum.Fold(0x10000u));
        Assert.Equal(0xFFFF, Checksum.Fold(0xFFFF_FFFFu));
        Assert.Equal(0xFFFF, Checksum.Fold(ulong.MaxValue));
        Assert.Equal(0x0002, Checksum.Fold(0x1_0000_0001UL));
        Assert.Equal(ReferenceFold(0x1234_5678_9ABC_DEF0UL), Checksum.Fold(0x1234_5678_9ABC_DEF0UL));
    }

    [Fact]
    public void Ones_matches_reference_on_random_data_lengths_alignments_and_initials()
    {
        var random = new Random(1071);
        var buffer = new byte[70_000];
        random.NextBytes(buffer);
        for (int length = 0; length <= 600; length++)
        {
            int offset = random.Next(16);
            uint initial = (uint)random.Next();
            ReadOnlySpan<byte> data = buffer.AsSpan(offset, length);
            Assert.Equal(ReferenceChecksum.Sum(data), Checksum.Ones(data));
            Assert.Equal(ReferenceChecksum.Sum(data, initial), Checksum.Ones(data, initial));
        }

        foreach (int length in new[] { 1499, 1500, 1514, 9000, 9001, 65535, 69_999 })
        {
            ReadOnlySpan<byte> data = buffer.AsSpan(buffer.Length - length, length);
            Assert.Equal(ReferenceChecksum.Sum(data), Checksum.Ones(data));
        }
    }

    [Fact]
    public void Ones_handles_all_ones_data_without_losing_carries()
    {
        var data = new byte[65_537];
        Array.Fill(data, (byte)0xFF);
        Assert.Equal(ReferenceChecksum.Sum(data), Checksum.Ones(data));
        Assert.Equal(ReferenceChecksum.Sum(data, uint.MaxValue), Checksum.Ones(data, uint.MaxValue));
    }

    [Fact]
    public void Chaining_even_spans_equals_one_pass()
    {
        var random = new Random(7);
        var data = new byte[301];
        random.NextBytes(data);
        for (int split = 0; split <= data.Length; split += 2)
        {
            Assert.Equal(Checksum.Ones(data), Checksum.Ones(data.AsSpan(split), Checksum.Ones(data.AsSpan(0, split))));
        }
    }

    [Fact]
    public void Pseudo_header_sums_match_explicit_pseudo_headers()
    {
        var random = new Random(768);
        var src6 = new byte[16];
        var dst6 = new byte[16];
        for (int i = 0; i < 1000; i++)
        {
            uint src = (uint)random.NextInt64(0, 1L << 32);
            uint dst = (uint)random.NextInt64(0, 1L << 32);
            byte protocol = (byte)random.Next(256);
            ushort length = (ushort)random.Next(65536);
            var pseudo = new byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(pseudo, src);
            BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(4), dst);
            pseudo[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), length);
            Assert.Equal(ReferenceChecksum.Sum(pseudo), Checksum.Ipv4PseudoHeaderSum(src, dst, protocol, length));

            random.NextBytes(src6);
            random.NextBytes(dst6);
            uint length6 = (uint)random.NextInt64(0, 1L << 32);
            var pseudo6 = new byte[40];
            src6.CopyTo(pseudo6, 0);
            dst6.CopyTo(pseudo6, 16);
            BinaryPrimitives.WriteUInt32BigEndian(pseudo6.AsSpan(32), length6);
            pseudo6[39] = protocol;
            Assert.Equal(ReferenceChecksum.Sum(pseudo6), Checksum.Ipv6PseudoHeaderSum(src6, dst6, protocol, length6));
        }
    }

    [Theory]
    [InlineData(IpProtocols.Udp, 6)]
    [InlineData(IpProtocols.Tcp, 16)]
    [InlineData(IpProtocols.Icmp, 2)]
    public void L4Ipv4_matches_reference_on_random_packets(byte protocol, int checksumOffset)
    {
        var random = new Random(protocol);
        for (int i = 0; i < 500; i++)
        {
            int l4Length = random.Next(checksumOffset + 2, 1500);
            int padding = random.Next(4);
            var packet = new byte[20 + l4Length + padding];
            random.NextBytes(packet);
            var ip = new Ipv4Header(packet);
            ip.Bytes[0] = 0x45;
            ip.TotalLength = (ushort)(20 + l4Length);
            ip.Protocol = protocol;
            Span<byte> l4 = packet.AsSpan(20, l4Length);

            ushort checksum = Checksum.L4Ipv4(packet);
            BinaryPrimitives.WriteUInt16BigEndian(l4[checksumOffset..], checksum);
            ushort verify = protocol == IpProtocols.Icmp
                ? ReferenceChecksum.Sum(l4)
                : ReferenceChecksum.Ipv4L4Sum(ip.Source, ip.Destination, protocol, l4);
            Assert.Equal(0xFFFF, verify);
            Assert.Equal(checksum, Checksum.L4Ipv4(packet)); // the stored field does not change the result
        }
    }

    [Theory]
    [InlineData(IpProtocols.Udp, 6)]
    [InlineData(IpProtocols.Tcp, 16)]
    [InlineData(IpProtocols.IcmpV6, 2)]
    public void L4Ipv6_matches_reference_on_random_packets(byte protocol, int checksumOffset)
    {
        var random = new Random(protocol + 1000);
        for (int i = 0; i < 500; i++)
        {
            int l4Length = random.Next(checksumOffset + 2, 1500);
            var packet = new byte[40 + l4Length];
            random.NextBytes(packet);
            var ip = new Ipv6Header(packet);
            ip.Version = 6;
            ip.PayloadLength = (ushort)l4Length;
            ip.NextHeader = protocol;
            Span<byte> l4 = packet.AsSpan(40);

            ushort checksum = Checksum.L4Ipv6(packet);
            BinaryPrimitives.WriteUInt16BigEndian(l4[checksumOffset..], checksum);
            Assert.Equal(0xFFFF, ReferenceChecksum.Ipv6L4Sum(ip.Source, ip.Destination, protocol, l4));
        }
    }

    [Fact]
    public void L4Ipv6_skips_extension_headers()
    {
        var packet = new byte[40 + 8 + 20];
        var ip = new Ipv6Header(packet);
        ip.Version = 6;
        ip.PayloadLength = 28;
        ip.NextHeader = IpProtocols.Ipv6HopByHop;
        ip.Source[15] = 1;
        ip.Destination[15] = 2;
        packet[40] = IpProtocols.Udp; // hop-by-hop: next header UDP, length 0 (8 bytes)
        Span<byte> udp = packet.AsSpan(48);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], 20);
        udp[10] = 0x5A;
        ushort checksum = Checksum.L4Ipv6(packet);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv6L4Sum(ip.Source, ip.Destination, IpProtocols.Udp, udp));
    }

    [Fact]
    public void Udp_zero_checksum_is_sent_as_all_ones()
    {
        // Find a UDP datagram whose checksum computes to zero by fixing a payload word: then it must read 0xFFFF.
        var packet = new byte[20 + 10];
        var ip = new Ipv4Header(packet);
        ip.Bytes[0] = 0x45;
        ip.TotalLength = 30;
        ip.Protocol = IpProtocols.Udp;
        ip.Source = 0x0A000001;
        ip.Destination = 0x0A000002;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 10);
        // Sum without the last word; choose that word so the total is 0xFFFF (checksum 0).
        ushort partial = ReferenceChecksum.Ipv4L4Sum(ip.Source, ip.Destination, IpProtocols.Udp, packet.AsSpan(20));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(28), (ushort)~partial);
        Assert.Equal(0xFFFF, ReferenceChecksum.Ipv4L4Sum(ip.Source, ip.Destination, IpProtocols.Udp, packet.AsSpan(20)));
        Assert.Equal(0xFFFF, Checksum.L4Ipv4(packet));

        // TCP has no such substitution: a zero checksum stays zero.
        var tcp = new byte[40];
        tcp[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), 40);
        tcp[9] = IpProtocols.Tcp;
        ushort sum = ReferenceChecksum.Ipv4L4Sum(0, 0, IpProtocols.Tcp, tcp.AsSpan(20));
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(38), (ushort)~sum);
        Assert.Equal(0, Checksum.L4Ipv4(tcp));
    }

    [Fact]
    public void Malformed_input_throws_argument_exceptions()
    {
        Assert.Throws<ArgumentException>("header", () => Checksum.Ipv4Header(new byte[19]));
        Assert.Throws<ArgumentException>("ipv4Packet", () => Checksum.L4Ipv4(new byte[19]));
        var packet = new byte[28];
        packet[0] = 0x45;
        packet[3] = 29; // total length beyond the span
        packet[9] = IpProtocols.Udp;
        Assert.Throws<ArgumentException>("ipv4Packet", () => Checksum.L4Ipv4(packet));
        packet[3] = 28;
        packet[9] = 99; // unknown protocol
        Assert.Throws<ArgumentException>("ipv4Packet", () => Checksum.L4Ipv4(packet));
        packet[9] = IpProtocols.Tcp; // 8 bytes cannot hold a TCP checksum
        Assert.Throws<ArgumentException>("ipv4Packet", () => Checksum.L4Ipv4(packet));
        Assert.Throws<ArgumentException>("ipv6Packet", () => Checksum.L4Ipv6(new byte[39]));
        Assert.Throws<ArgumentException>("source", () => Checksum.Ipv6PseudoHeaderSum(new byte[4], new byte[16], 17, 8));
    }

    private static ushort ReferenceFold(ulong value)
    {
        while (value > 0xFFFF)
        {
            value = (value & 0xFFFF) + (value >> 16);
        }

        return (ushort)value;
    }
}
