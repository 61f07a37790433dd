using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class VlanHeaderTests
{
    [Fact]
    public void Reads_tci_fields()
    {
        // PCP 5, DEI 1, VID 0x123, inner IPv4.
        byte[] bytes = [0xB1, 0x23, 0x08, 0x00];
        Assert.True(VlanHeader.TryCreate(bytes, out VlanHeader tag));
        Assert.Equal(0xB123, tag.Tci);
        Assert.Equal(5, tag.Pcp);
        Assert.True(tag.Dei);
        Assert.Equal(0x123, tag.VlanId);
        Assert.Equal(EtherTypes.Ipv4, tag.InnerEtherType);
    }

    [Fact]
    public void Writes_each_field_without_disturbing_the_others()
    {
        var bytes = new byte[VlanHeader.Length];
        var tag = new VlanHeader(bytes);
        tag.VlanId = 0xFFF;
        tag.Pcp = 3;
        tag.Dei = true;
        tag.InnerEtherType = EtherTypes.Ipv6;
        Assert.Equal(new byte[] { 0x7F, 0xFF, 0x86, 0xDD }, bytes);

        tag.Dei = false;
        tag.VlanId = 0x0AB;
        Assert.Equal(new byte[] { 0x60, 0xAB, 0x86, 0xDD }, bytes);
        Assert.Equal(3, tag.Pcp);

        tag.Tci = 0x1234;
        Assert.Equal(0x234, tag.VlanId);
        Assert.Equal(0, tag.Pcp);
        Assert.True(tag.Dei);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        Assert.False(VlanHeader.TryCreate(new byte[3], out _));
        Assert.Throws<ArgumentException>("bytes", () => new VlanHeader(new byte[3]));
    }
}
