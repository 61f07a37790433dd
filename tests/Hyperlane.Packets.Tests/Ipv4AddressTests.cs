using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class Ipv4AddressTests
{
    [Theory]
    [InlineData("198.18.0.1", 0xC612_0001U)]
    [InlineData("0.0.0.0", 0U)]
    [InlineData("255.255.255.255", 0xFFFF_FFFFU)]
    [InlineData("192.168.0.199", 0xC0A8_00C7U)]
    public void Parses_and_formats(string text, uint value)
    {
        Assert.True(Ipv4Address.TryParse(text, out uint parsed));
        Assert.Equal(value, parsed);
        Assert.Equal(value, Ipv4Address.Parse(text));
        Assert.Equal(text, Ipv4Address.Format(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1..3.4")]
    [InlineData("1.2.3.")]
    [InlineData("1.2.3.1000")]
    [InlineData("a.b.c.d")]
    public void Rejects_bad_text(string text)
    {
        Assert.False(Ipv4Address.TryParse(text, out _));
        FormatException error = Assert.Throws<FormatException>(() => Ipv4Address.Parse(text));
        Assert.Contains($"'{text}' is not an IPv4 address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Make_matches_PacketBuilder_Ip_and_TestPmd_defaults()
    {
        Assert.Equal(0xC612_0001U, Ipv4Address.Make(198, 18, 0, 1));
        Assert.Equal(Ipv4Address.Make(198, 18, 0, 1), PacketBuilder.Ip(198, 18, 0, 1));
        Assert.Equal(TestPmdDefaults.SourceIp, PacketBuilder.Ip(198, 18, 0, 1));
        Assert.Equal(TestPmdDefaults.DestinationIp, PacketBuilder.Ip(198, 18, 0, 2));
        Assert.Equal(9, TestPmdDefaults.UdpPort);
        Assert.Equal("02:00:00:00:00:03", TestPmdDefaults.PeerMac(3).ToString());
    }

    [Fact]
    public void TryFormat_fails_cleanly_when_short()
    {
        Span<char> text = stackalloc char[10];
        Assert.False(Ipv4Address.TryFormat(0xFFFF_FFFF, text, out int written));
        Assert.Equal(0, written);
        Assert.True(Ipv4Address.TryFormat(0x0A00_0001, text, out written));
        Assert.Equal("10.0.0.1", text[..written].ToString());
    }
}
