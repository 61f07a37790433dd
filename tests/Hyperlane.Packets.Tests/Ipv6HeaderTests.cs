using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class Ipv6HeaderTests
{
    private static byte[] Sample()
    {
        var bytes = new byte[48];
        byte[] fixedPart =
        [
            0x6A, 0xB1, 0x23, 0x45, // version 6, traffic class 0xAB, flow label 0x12345
            0x00, 0x08, 0x11, 0x40, // payload 8, UDP, hop limit 64
        ];
        fixedPart.CopyTo(bytes, 0);
        for (int i = 0; i < 16; i++)
        {
            bytes[8 + i] = (byte)(0x20 + i);
            bytes[24 + i] = (byte)(0x40 + i);
        }

        return bytes;
    }

    [Fact]
    public void Reads_fields_in_network_order()
    {
        Assert.True(Ipv6Header.TryCreate(Sample(), out Ipv6Header ip));
        Assert.Equal(6, ip.Version);
        Assert.Equal(0xAB, ip.TrafficClass);
        Assert.Equal(0x12345U, ip.FlowLabel);
        Assert.Equal(8, ip.PayloadLength);
        Assert.Equal(IpProtocols.Udp, ip.NextHeader);
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal(16, ip.Source.Length);
        Assert.Equal(0x20, ip.Source[0]);
        Assert.Equal(0x2F, ip.Source[15]);
        Assert.Equal(0x40, ip.Destination[0]);
        Assert.Equal(0x4F, ip.Destination[15]);
        Assert.Equal(8, ip.Payload.Length);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[48];
        var ip = new Ipv6Header(bytes);
        ip.Version = 6;
        ip.FlowLabel = 0xFFF12345; // only 20 bits kept
        ip.TrafficClass = 0xAB;
        ip.PayloadLength = 8;
        ip.NextHeader = IpProtocols.Udp;
        ip.HopLimit = 64;
        for (int i = 0; i < 16; i++)
        {
            ip.Source[i] = (byte)(0x20 + i);
            ip.Destination[i] = (byte)(0x40 + i);
        }

        Assert.Equal(Sample(), bytes);

        ip.TrafficClass = 0;
        Assert.Equal(new byte[] { 0x60, 0x01, 0x23, 0x45 }, bytes[..4]);
        ip.FlowLabel = 0;
        Assert.Equal(new byte[] { 0x60, 0x00, 0x00, 0x00 }, bytes[..4]);
    }

    [Fact]
    public void Payload_is_clipped_to_the_span()
    {
        byte[] bytes = Sample();
        var ip = new Ipv6Header(bytes);
        ip.PayloadLength = 100;
        Assert.Equal(8, ip.Payload.Length);
    }

    [Fact]
    public void TryCreate_rejects_short_or_non_v6()
    {
        Assert.False(Ipv6Header.TryCreate(new byte[39], out _));
        byte[] bytes = Sample();
        bytes[0] = 0x45;
        Assert.False(Ipv6Header.TryCreate(bytes, out _));
        Assert.Throws<ArgumentException>("bytes", () => new Ipv6Header(new byte[39]));
    }
}
