using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class IcmpHeaderTests
{
    [Fact]
    public void Reads_fields_in_network_order()
    {
        byte[] bytes = [0x08, 0x00, 0xF7, 0xFD, 0x00, 0x01, 0x00, 0x01, 0x61];
        Assert.True(IcmpHeader.TryCreate(bytes, out IcmpHeader icmp));
        Assert.Equal(IcmpHeader.EchoRequest, icmp.Type);
        Assert.Equal(0, icmp.Code);
        Assert.Equal(0xF7FD, icmp.Checksum);
        Assert.Equal(1, icmp.Identifier);
        Assert.Equal(1, icmp.Sequence);
        Assert.Equal(1, icmp.Payload.Length);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[IcmpHeader.Length];
        var icmp = new IcmpHeader(bytes);
        icmp.Type = IcmpHeader.EchoReply;
        icmp.Code = 3;
        icmp.Checksum = 0x1234;
        icmp.Identifier = 0xABCD;
        icmp.Sequence = 0x0102;
        Assert.Equal(new byte[] { 0x00, 0x03, 0x12, 0x34, 0xAB, 0xCD, 0x01, 0x02 }, bytes);
    }

    [Fact]
    public void Constants_and_short_spans()
    {
        Assert.Equal(8, IcmpHeader.EchoRequest);
        Assert.Equal(0, IcmpHeader.EchoReply);
        Assert.Equal(1, IpProtocols.Icmp);
        Assert.Equal(6, IpProtocols.Tcp);
        Assert.Equal(17, IpProtocols.Udp);
        Assert.Equal(58, IpProtocols.IcmpV6);
        Assert.False(IcmpHeader.TryCreate(new byte[7], out _));
        Assert.Throws<ArgumentException>("bytes", () => new IcmpHeader(new byte[7]));
    }
}
