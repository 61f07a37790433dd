using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class UdpHeaderTests
{
    [Fact]
    public void Reads_fields_in_network_order()
    {
        byte[] bytes = [0x00, 0x35, 0xC0, 0x01, 0x00, 0x0A, 0xBE, 0xEF, 0x11, 0x22];
        Assert.True(UdpHeader.TryCreate(bytes, out UdpHeader udp));
        Assert.Equal(53, udp.SourcePort);
        Assert.Equal(0xC001, udp.DestinationPort);
        Assert.Equal(10, udp.DatagramLength);
        Assert.Equal(0xBEEF, udp.Checksum);
        Assert.Equal(new byte[] { 0x11, 0x22 }, udp.Payload.ToArray());
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[UdpHeader.Length];
        var udp = new UdpHeader(bytes);
        udp.SourcePort = 9;
        udp.DestinationPort = 0xFFFE;
        udp.DatagramLength = 0x0102;
        udp.Checksum = 0xA1B2;
        Assert.Equal(new byte[] { 0x00, 0x09, 0xFF, 0xFE, 0x01, 0x02, 0xA1, 0xB2 }, bytes);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        Assert.False(UdpHeader.TryCreate(new byte[7], out _));
        Assert.Throws<ArgumentException>("bytes", () => new UdpHeader(new byte[7]));
    }
}
