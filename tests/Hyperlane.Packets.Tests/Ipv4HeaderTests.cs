using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class Ipv4HeaderTests
{
    // The classic example header (Wikipedia "IPv4 header checksum"): 192.168.0.1 -> 192.168.0.199, UDP, DF.
    private static byte[] Classic() =>
    [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
        0xB8, 0x61, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7,
    ];

    [Fact]
    public void Reads_fields_in_network_order()
    {
        Assert.True(Ipv4Header.TryCreate(Classic(), out Ipv4Header ip));
        Assert.Equal(4, ip.Version);
        Assert.Equal(5, ip.Ihl);
        Assert.Equal(20, ip.HeaderLength);
        Assert.Equal(0, ip.Tos);
        Assert.Equal(0x73, ip.TotalLength);
        Assert.Equal(0, ip.Identification);
        Assert.True(ip.DontFragment);
        Assert.False(ip.MoreFragments);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.False(ip.IsFragment);
        Assert.Equal(64, ip.Ttl);
        Assert.Equal(IpProtocols.Udp, ip.Protocol);
        Assert.Equal(0xB861, ip.Checksum);
        Assert.Equal(0xC0A8_0001U, ip.Source);
        Assert.Equal(0xC0A8_00C7U, ip.Destination);
        Assert.True(ip.IsChecksumValid);
        Assert.Equal(0xB861, ip.ComputeChecksum());
        Assert.True(ip.Options.IsEmpty);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[20];
        var ip = new Ipv4Header(bytes);
        ip.Version = 4;
        ip.Ihl = 5;
        ip.Dscp = 46;
        ip.Ecn = 1;
        ip.TotalLength = 0x1234;
        ip.Identification = 0xABCD;
        ip.MoreFragments = true;
        ip.FragmentOffset = 0x1FFF;
        ip.Ttl = 17;
        ip.Protocol = IpProtocols.Tcp;
        ip.Source = 0x0A000001;
        ip.Destination = 0xC6120002;
        ip.UpdateChecksum();
        Assert.Equal(
            new byte[] { 0x45, 0xB9, 0x12, 0x34, 0xAB, 0xCD, 0x3F, 0xFF, 17, 6, bytes[10], bytes[11], 10, 0, 0, 1, 198, 18, 0, 2 },
            bytes);
        Assert.Equal(46, ip.Dscp);
        Assert.Equal(1, ip.Ecn);
        Assert.Equal(0xB9, ip.Tos);
        Assert.True(ip.IsFragment);
        Assert.True(ip.IsChecksumValid);

        ip.DontFragment = true;
        ip.MoreFragments = false;
        ip.FragmentOffset = 0;
        Assert.Equal(new byte[] { 0x40, 0x00 }, bytes[6..8]);
        Assert.False(ip.IsChecksumValid);
        ip.UpdateChecksum();
        Assert.True(ip.IsChecksumValid);
    }

    [Fact]
    public void Checksum_covers_options()
    {
        var bytes = new byte[28];
        Classic().CopyTo(bytes, 0);
        var ip = new Ipv4Header(bytes);
        ip.Ihl = 6;
        bytes[20] = 0x94; // Router Alert option (RFC 2113)
        bytes[21] = 0x04;
        Assert.Equal(24, ip.HeaderLength);
        Assert.Equal(4, ip.Options.Length);
        ip.UpdateChecksum();
        Assert.True(ip.IsChecksumValid);
        bytes[22] ^= 1;
        Assert.False(ip.IsChecksumValid);
        bytes[24] ^= 1; // payload: not covered
        bytes[22] ^= 1;
        Assert.True(ip.IsChecksumValid);
    }

    [Fact]
    public void Payload_is_bounded_by_total_length_and_span()
    {
        var bytes = new byte[60];
        Classic().CopyTo(bytes, 0);
        var ip = new Ipv4Header(bytes);
        ip.TotalLength = 28;
        Assert.Equal(8, ip.Payload.Length);
        ip.TotalLength = 1000;
        Assert.Equal(40, ip.Payload.Length);
        ip.TotalLength = 10;
        Assert.True(ip.Payload.IsEmpty);
    }

    [Theory]
    [InlineData(19, 0x45)] // too short
    [InlineData(20, 0x44)] // IHL 4
    [InlineData(20, 0x46)] // IHL 6 needs 24 bytes
    [InlineData(20, 0x65)] // version 6
    [InlineData(0, 0)]
    public void TryCreate_rejects_bad_headers(int length, byte versionIhl)
    {
        var bytes = new byte[length];
        if (length > 0)
        {
            bytes[0] = versionIhl;
        }

        Assert.False(Ipv4Header.TryCreate(bytes, out _));
    }

    [Fact]
    public void Constructor_checks_only_the_minimum_length()
    {
        Assert.Throws<ArgumentException>("bytes", () => new Ipv4Header(new byte[19]));
        _ = new Ipv4Header(new byte[20]);
    }
}
