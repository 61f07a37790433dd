using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class MacAddressTests
{
    [Theory]
    [InlineData("02:00:00:00:00:01", 0x0200_0000_0001UL)]
    [InlineData("02-00-00-00-00-01", 0x0200_0000_0001UL)]
    [InlineData("aa:bb:cc:dd:ee:ff", 0xAABB_CCDD_EEFFUL)]
    [InlineData("AA-bb-Cc-dD-EE-ff", 0xAABB_CCDD_EEFFUL)]
    [InlineData("00:00:00:00:00:00", 0UL)]
    [InlineData("FF:FF:FF:FF:FF:FF", 0xFFFF_FFFF_FFFFUL)]
    public void Parse_accepts_colon_and_dash_forms(string text, ulong expected)
    {
        Assert.Equal(expected, MacAddress.Parse(text).ToUInt64());
        Assert.True(MacAddress.TryParse(text, out MacAddress parsed));
        Assert.Equal(expected, parsed.ToUInt64());
    }

    [Theory]
    [InlineData("")]
    [InlineData("zz:00:00:00:00:01")]
    [InlineData("02:00:00:00:00")]
    [InlineData("02:00:00:00:00:01:02")]
    [InlineData("02:00:00:00:00:1")]
    [InlineData("2:00:00:00:00:01")]
    [InlineData("02:00:00:00:00:001")]
    [InlineData("002:00:00:00:00:01")]
    [InlineData("02:00-00:00:00:01")]
    [InlineData("02.00.00.00.00.01")]
    [InlineData("020000000001")]
    [InlineData("02:00:00:00:00:01 ")]
    [InlineData(" 02:00:00:00:00:01")]
    [InlineData("02:00:00:00:00:")]
    [InlineData(":02:00:00:00:00")]
    [InlineData("02::00:00:00:00")]
    [InlineData("0x:00:00:00:00:01")]
    [InlineData("+2:00:00:00:00:01")]
    [InlineData("02:00:00:00:00:0g")]
    [InlineData("０2:00:00:00:00:01")]
    public void Parse_rejects_bad_text_and_says_why(string text)
    {
        Assert.False(MacAddress.TryParse(text, out MacAddress parsed));
        Assert.Equal(MacAddress.Zero, parsed);
        FormatException error = Assert.Throws<FormatException>(() => MacAddress.Parse(text));
        Assert.Contains($"'{text}' is not a MAC address", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected six hex octets like 02:00:00:00:00:01", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zz:00:00:00:00:01", "octet 1 'zz' is not two hex digits")]
    [InlineData("02:00:00:00:00", "it has 5 groups")]
    [InlineData("02:00-00:00:00:01", "mixes ':' and '-'")]
    [InlineData("020000000001", "no ':' or '-' separators")]
    [InlineData("02:00:00:00:00:001", "octet 6 '001' is not two hex digits")]
    public void Parse_message_names_the_problem(string text, string reason)
    {
        FormatException error = Assert.Throws<FormatException>(() => MacAddress.Parse(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_null_throws_ArgumentNullException() =>
        Assert.Throws<ArgumentNullException>(() => MacAddress.Parse(null!));

    [Theory]
    [InlineData("02:00:00:00:00:01", "02:00:00:00:00:01")]
    [InlineData("0a-1b-2c-3d-4e-5f", "0A:1B:2C:3D:4E:5F")]
    [InlineData("ff:ff:ff:ff:ff:ff", "FF:FF:FF:FF:FF:FF")]
    public void ToString_is_uppercase_colon_form_and_round_trips(string text, string expected)
    {
        MacAddress mac = MacAddress.Parse(text);
        Assert.Equal(expected, mac.ToString());
        Assert.Equal(mac, MacAddress.Parse(mac.ToString()));
    }

    [Fact]
    public void Random_addresses_round_trip_through_text_bytes_and_uint64()
    {
        var random = new Random(42);
        Span<byte> bytes = stackalloc byte[8];
        Span<byte> copy = stackalloc byte[6];
        for (int i = 0; i < 1000; i++)
        {
            random.NextBytes(bytes);
            var mac = new MacAddress(bytes[..6]);
            Assert.Equal(mac, MacAddress.Parse(mac.ToString()));
            Assert.Equal(mac, MacAddress.FromUInt64(mac.ToUInt64()));
            Assert.Equal(mac, MacAddress.Read(bytes));
            mac.CopyTo(copy);
            Assert.True(copy.SequenceEqual(bytes[..6]));
        }
    }

    [Fact]
    public void Constructor_and_byte_order()
    {
        var mac = new MacAddress(0x02, 0x11, 0x22, 0x33, 0x44, 0x55);
        Assert.Equal(0x0211_2233_4455UL, mac.ToUInt64());
        Span<byte> bytes = stackalloc byte[6];
        mac.CopyTo(bytes);
        Assert.Equal(new byte[] { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }, bytes.ToArray());
        Assert.Equal(mac, new MacAddress(bytes));
    }

    [Fact]
    public void Address_kinds()
    {
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.False(MacAddress.Broadcast.IsUnicast);
        Assert.True(MacAddress.Zero.IsZero);
        Assert.True(MacAddress.Zero.IsUnicast);

        MacAddress local = MacAddress.Parse("02:00:00:00:00:01");
        Assert.True(local.IsUnicast);
        Assert.True(local.IsLocallyAdministered);
        Assert.False(local.IsMulticast);
        Assert.False(local.IsBroadcast);
        Assert.False(local.IsZero);

        MacAddress multicast = MacAddress.Parse("01:00:5E:00:00:01");
        Assert.True(multicast.IsMulticast);
        Assert.False(multicast.IsUnicast);
        Assert.False(multicast.IsBroadcast);
        Assert.False(multicast.IsLocallyAdministered);

        Assert.False(MacAddress.Parse("00:1B:21:00:00:01").IsLocallyAdministered);
    }

    [Fact]
    public void Equality_members_agree()
    {
        MacAddress a = MacAddress.Parse("02:00:00:00:00:01");
        MacAddress b = MacAddress.Parse("02-00-00-00-00-01");
        MacAddress c = MacAddress.Parse("02:00:00:00:00:02");
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a != c);
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals((object)"02:00:00:00:00:01"));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Bad_lengths_and_values_throw_argument_exceptions()
    {
        Assert.Throws<ArgumentException>("octets", () => new MacAddress(new byte[5]));
        Assert.Throws<ArgumentException>("octets", () => new MacAddress(new byte[7]));
        Assert.Throws<ArgumentException>("source", () => MacAddress.Read(new byte[5]));
        Assert.Throws<ArgumentException>("destination", () => MacAddress.Zero.CopyTo(new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>("value", () => MacAddress.FromUInt64(1UL << 48));
    }

    [Fact]
    public void TryFormat_needs_17_chars()
    {
        MacAddress mac = MacAddress.Parse("02:00:00:00:00:01");
        Span<char> small = stackalloc char[16];
        Assert.False(mac.TryFormat(small, out int written));
        Assert.Equal(0, written);
        Span<char> text = stackalloc char[20];
        Assert.True(mac.TryFormat(text, out written));
        Assert.Equal("02:00:00:00:00:01", text[..written].ToString());
    }
}
