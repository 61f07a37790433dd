using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class ArpHeaderTests
{
    private static byte[] Request() =>
    [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 168, 0, 1,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 0, 199,
    ];

    [Fact]
    public void Reads_fields_in_network_order()
    {
        Assert.True(ArpHeader.TryCreate(Request(), out ArpHeader arp));
        Assert.Equal(ArpHeader.HardwareTypeEthernet, arp.HardwareType);
        Assert.Equal(EtherTypes.Ipv4, arp.ProtocolType);
        Assert.Equal(6, arp.HardwareLength);
        Assert.Equal(4, arp.ProtocolLength);
        Assert.True(arp.IsEthernetIpv4);
        Assert.Equal(ArpHeader.Request, arp.Opcode);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), arp.SenderMac);
        Assert.Equal(0xC0A8_0001U, arp.SenderIp);
        Assert.Equal(MacAddress.Zero, arp.TargetMac);
        Assert.Equal(0xC0A8_00C7U, arp.TargetIp);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[ArpHeader.Length];
        var arp = new ArpHeader(bytes);
        arp.HardwareType = ArpHeader.HardwareTypeEthernet;
        arp.ProtocolType = EtherTypes.Ipv4;
        arp.HardwareLength = 6;
        arp.ProtocolLength = 4;
        arp.Opcode = ArpHeader.Request;
        arp.SenderMac = MacAddress.Parse("02:00:00:00:00:01");
        arp.SenderIp = PacketBuilder.Ip(192, 168, 0, 1);
        arp.TargetMac = MacAddress.Zero;
        arp.TargetIp = PacketBuilder.Ip(192, 168, 0, 199);
        Assert.Equal(Request(), bytes);

        arp.Opcode = ArpHeader.Reply;
        Assert.Equal(0x02, bytes[7]);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        Assert.False(ArpHeader.TryCreate(new byte[27], out _));
        Assert.Throws<ArgumentException>("bytes", () => new ArpHeader(new byte[27]));
    }
}
