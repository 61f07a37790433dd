using System.Buffers.Binary;
using Hyperlane.Cli.TestPmd;
using Hyperlane.Packets;

namespace Hyperlane.Cli.Tests;

/// <summary>
/// flowgen's per-packet rewrite from a precomputed sum: byte for byte what setting the destination, recomputing the
/// IPv4 checksum over the packet and clearing the UDP checksum gives, and nothing written for a template it does not
/// apply to.
/// </summary>
public sealed class FlowGenHeadersTests
{
    private static readonly MacAddress Source = new(0x02, 0, 0, 0, 0, 0x10);

    /// <summary>The general rewrite: destination set, checksum computed from the header, UDP checksum 0.</summary>
    private static byte[] Reference(byte[] template, uint destination)
    {
        byte[] frame = [.. template];
        var ip = new Ipv4Header(frame.AsSpan(EthernetHeader.Length));
        ip.Destination = destination;
        ip.UpdateChecksum();
        new UdpHeader(frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength)).Checksum = 0;
        return frame;
    }

    private static byte[] Template(int length)
    {
        var frame = new byte[length];
        PacketBuilder.Udp4(frame, Source, TestPmdDefaults.PeerMac(1), TestPmdDefaults.SourceIp, TestPmdDefaults.DestinationIp, TestPmdDefaults.UdpPort, TestPmdDefaults.UdpPort, length);
        return frame;
    }

    [Theory]
    [InlineData(FlowGenHeaders.MinFrameLength)]
    [InlineData(64)]
    [InlineData(1514)]
    public void Every_flow_of_the_testpmd_template_matches_the_general_rewrite(int length)
    {
        byte[] template = Template(length);
        long sum = FlowGenHeaders.BaseSum(template);
        Assert.True(sum >= 0);
        for (int flow = 0; flow < ForwardingEngine.FlowGenFlows; flow++)
        {
            uint destination = TestPmdDefaults.DestinationIp + (uint)flow;
            byte[] frame = [.. template];
            Assert.True(FlowGenHeaders.TryStamp(frame, destination, sum));
            Assert.Equal(Reference(template, destination), frame);
            Assert.True(new Ipv4Header(frame.AsSpan(EthernetHeader.Length)).IsChecksumValid);
        }
    }

    [Fact]
    public void Random_headers_and_destinations_match_the_general_rewrite()
    {
        // Every other header word random (carries in every position), destinations over the whole 32-bit range.
        var random = new Random(17);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] template = Template(64);
            Span<byte> ip = template.AsSpan(EthernetHeader.Length, Ipv4Header.MinLength);
            random.NextBytes(ip[1..9]); // TOS, total length, identification, fragment, TTL
            random.NextBytes(ip[10..16]); // checksum (ignored) and source
            random.NextBytes(ip[16..20]); // a stale destination (overwritten)
            if (i % 7 == 0)
            {
                ip[1..9].Fill(0xFF);
                ip[12..16].Fill(0xFF);
            }

            uint destination = i % 5 == 0 ? uint.MaxValue - (uint)i : (uint)random.NextInt64(0, 1L << 32);
            long sum = FlowGenHeaders.BaseSum(template);
            byte[] frame = [.. template];
            Assert.True(FlowGenHeaders.TryStamp(frame, destination, sum));
            Assert.Equal(Reference(template, destination), frame);
        }
    }

    [Fact]
    public void A_template_it_does_not_apply_to_has_no_sum_and_nothing_is_written()
    {
        byte[] good = Template(64);
        Assert.Equal(-1, FlowGenHeaders.BaseSum(good.AsSpan(0, FlowGenHeaders.MinFrameLength - 1)));

        byte[] vlan = [.. good];
        BinaryPrimitives.WriteUInt16BigEndian(vlan.AsSpan(12), 0x8100);
        Assert.Equal(-1, FlowGenHeaders.BaseSum(vlan));

        byte[] options = [.. good];
        options[EthernetHeader.Length] = 0x46; // IHL 6: options move the UDP header
        Assert.Equal(-1, FlowGenHeaders.BaseSum(options));

        byte[] tcp = [.. good];
        tcp[EthernetHeader.Length + 9] = 6;
        Assert.Equal(-1, FlowGenHeaders.BaseSum(tcp));

        byte[] frame = [.. good];
        Assert.False(FlowGenHeaders.TryStamp(frame, 1, -1));
        Assert.False(FlowGenHeaders.TryStamp(frame.AsSpan(0, FlowGenHeaders.MinFrameLength - 1), 1, FlowGenHeaders.BaseSum(good)));
        Assert.Equal(good, frame);
    }
}
