using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Packets.Tests;

public class AllocationTests
{
    private const int Iterations = 100_000;

    private static readonly MacAddress SrcMac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress DstMac = MacAddress.Parse("02:00:00:00:00:02");

    [Fact]
    public void Data_path_helpers_allocate_nothing()
    {
        var frame = new byte[1514];
        var src6 = new byte[16];
        var dst6 = new byte[16];
        src6[15] = 1;
        dst6[15] = 2;

        // Warm up: JIT every path (all tiers) and run static constructors before measuring.
        long sink = 0;
        for (int i = 0; i < 2_000; i++)
        {
            sink += RunAll(frame, src6, dst6, i);
        }

        long before = ThreadAllocations.Baseline();
        for (int i = 0; i < Iterations; i++)
        {
            sink += RunAll(frame, src6, dst6, i);
        }

        long allocated = ThreadAllocations.Since(before);
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, sink);
    }

    private static long RunAll(byte[] buffer, byte[] src6, byte[] dst6, int i)
    {
        long sink = 0;
        Span<byte> frame = buffer;
        ushort? vlan = (i & 1) == 0 ? null : (ushort)(i & 0xFFF);
        int length = 66 + (i % 1400);

        // Builders, each followed by the parser and the checksum helpers.
        sink += PacketBuilder.Udp4(frame, SrcMac, DstMac, TestPmdDefaults.SourceIp, TestPmdDefaults.DestinationIp, 9, 9, length, vlan);
        sink += Parse(frame[..length]);
        sink += PacketBuilder.Udp6(frame, SrcMac, DstMac, src6, dst6, 9, 9, length, vlan);
        sink += Parse(frame[..length]);
        sink += PacketBuilder.Tcp4(frame, SrcMac, DstMac, 1, 2, 3, 4, length, TcpFlags.Syn, (uint)i, 0, vlan);
        sink += Parse(frame[..length]);
        sink += PacketBuilder.IcmpEchoRequest4(frame, SrcMac, DstMac, 1, 2, 3, (ushort)i, length, vlan);
        sink += Parse(frame[..length]);
        sink += PacketBuilder.ArpRequest(frame, SrcMac, 1, 2, vlan);
        sink += Parse(frame[..42]);
        sink += PacketBuilder.Ip(10, 0, 0, (byte)i);
        PacketBuilder.FillPattern(frame[100..200]);

        // Header views: create, read and write every kind.
        PacketBuilder.Udp4(frame, SrcMac, DstMac, 1, 2, 3, 4, 128);
        if (EthernetHeader.TryCreate(frame, out EthernetHeader ethernet))
        {
            ethernet.Destination = ethernet.Source;
            sink += ethernet.EtherType + (ethernet.Destination.IsMulticast ? 1 : 0);
        }

        var tag = new VlanHeader(frame[12..]);
        sink += tag.VlanId + tag.Pcp + (tag.Dei ? 1 : 0) + tag.InnerEtherType;

        if (Ipv4Header.TryCreate(frame[14..], out Ipv4Header ip))
        {
            ip.Ttl--;
            ip.Identification = (ushort)i;
            sink += ip.TotalLength + ip.Protocol + ip.Source + ip.Destination + ip.FragmentOffset + ip.Payload.Length;
            ip.UpdateChecksum();
            sink += ip.IsChecksumValid ? 1 : 0;
            sink += Checksum.L4Ipv4(ip.Bytes);
        }

        if (UdpHeader.TryCreate(frame[34..], out UdpHeader udp))
        {
            udp.SourcePort = udp.DestinationPort;
            sink += udp.DatagramLength + udp.Checksum;
        }

        if (TcpHeader.TryCreate(frame[34..], out TcpHeader tcp))
        {
            sink += tcp.SequenceNumber + tcp.AcknowledgmentNumber + (byte)tcp.Flags + tcp.Window + tcp.HeaderLength;
        }

        if (IcmpHeader.TryCreate(frame[34..], out IcmpHeader icmp))
        {
            sink += icmp.Type + icmp.Code + icmp.Identifier + icmp.Sequence + icmp.Checksum;
        }

        if (ArpHeader.TryCreate(frame[14..], out ArpHeader arp))
        {
            sink += arp.Opcode + arp.SenderIp + arp.TargetIp + (long)arp.SenderMac.ToUInt64();
        }

        if (Ipv6Header.TryCreate(frame[14..], out Ipv6Header ip6))
        {
            sink += ip6.PayloadLength;
        }

        var ip6View = new Ipv6Header(frame[200..]);
        ip6View.FlowLabel = (uint)i;
        ip6View.TrafficClass = 3;
        sink += ip6View.FlowLabel + ip6View.HopLimit + ip6View.NextHeader + ip6View.Source[0];

        // Checksum helpers directly.
        sink += Checksum.Ones(frame[..(length - 1)], (uint)i);
        sink += Checksum.Fold((uint)i * 7919u) + Checksum.Fold((ulong)i << 40);
        sink += Checksum.Ipv4Header(frame[14..34]);
        sink += Checksum.Ipv4PseudoHeaderSum(1, 2, IpProtocols.Udp, 100);
        sink += Checksum.Ipv6PseudoHeaderSum(src6, dst6, IpProtocols.Udp, 100);

        // MAC and IPv4 text helpers that promise not to allocate.
        Span<char> text = stackalloc char[20];
        sink += SrcMac.TryFormat(text, out int written) ? written : 0;
        sink += MacAddress.TryParse(text[..written], out MacAddress mac) ? (long)mac.ToUInt64() : 0;
        sink += MacAddress.Read(frame).IsBroadcast ? 1 : 0;
        mac.CopyTo(frame[200..]);
        sink += Ipv4Address.TryFormat((uint)i, text, out written) ? written : 0;
        sink += Ipv4Address.TryParse(text[..written], out uint address) ? address : 0;
        return sink;
    }

    private static long Parse(ReadOnlySpan<byte> frame) =>
        PacketParser.TryParse(frame, out PacketInfo info) ? info.L4Offset + info.L4Length + info.L4HeaderLength + info.L3Length : -1;
}
