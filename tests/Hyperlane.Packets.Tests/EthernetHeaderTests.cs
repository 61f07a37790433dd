using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class EthernetHeaderTests
{
    private static byte[] Sample() =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // destination
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
        0x08, 0x06, // ARP
        0xAA,
    ];

    [Fact]
    public void Reads_fields_in_network_order()
    {
        byte[] bytes = Sample();
        Assert.True(EthernetHeader.TryCreate(bytes, out EthernetHeader header));
        Assert.Equal(MacAddress.Broadcast, header.Destination);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), header.Source);
        Assert.Equal(EtherTypes.Arp, header.EtherType);
        Assert.Equal(1, header.Payload.Length);
        Assert.Equal(0xAA, header.Payload[0]);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[EthernetHeader.Length];
        var header = new EthernetHeader(bytes);
        header.Destination = MacAddress.Parse("01:02:03:04:05:06");
        header.Source = MacAddress.Parse("0a:0b:0c:0d:0e:0f");
        header.EtherType = EtherTypes.Ipv6;
        Assert.Equal(
            new byte[] { 1, 2, 3, 4, 5, 6, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x86, 0xDD },
            bytes);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        Assert.False(EthernetHeader.TryCreate(new byte[13], out _));
        Assert.Throws<ArgumentException>("bytes", () => new EthernetHeader(new byte[13]));
    }

    [Fact]
    public void EtherType_constants() =>
        Assert.Equal(
            new ushort[] { 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8 },
            new[] { EtherTypes.Ipv4, EtherTypes.Ipv6, EtherTypes.Arp, EtherTypes.Vlan, EtherTypes.QinQ });
}
