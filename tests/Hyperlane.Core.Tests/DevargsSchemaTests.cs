using Hyperlane.Core.Devices;

namespace Hyperlane.Core.Tests;

public class DevargsSchemaTests
{
    private static DevargsSchema Schema() => new DevargsSchema("net_null")
        .Int("size", min: 1, max: 65535, @default: 64)
        .Int("hotplug_poll", min: 0, max: 1_000_000)
        .Int("offset", min: -10, max: 10, repeatable: true)
        .Bool("copy")
        .Bool("no-rx", @default: true)
        .String("iface", repeatable: true, maxLength: 15)
        .String("label", allowEmpty: true, @default: "none")
        .Mac("mac", allowedWords: ["fixed"])
        .Mac("peer", repeatable: true)
        .Enum("mode", "a", "b")
        .Enum("speed", ["10G", "25G"], @default: "25G")
        .Parenthesized("dev", repeatable: true, max: 2)
        .Parenthesized("exec")
        .Parenthesized("fd", allowEmpty: true)
        .Unsupported("nodeaction", "use rx= and tx= instead");

    private static DevargsException Invalid(string devargs, DevargsSchema? schema = null)
    {
        var ex = Assert.Throws<DevargsException>(() => (schema ?? Schema()).Validate(devargs));
        DevargsParserTests.AssertOneLine(ex.Message);
        return ex;
    }

    [Fact]
    public void Defaults_apply_when_keys_are_absent()
    {
        DevargsValues v = Schema().Validate("net_null0");

        Assert.Equal("net_null0", v.DeviceName);
        Assert.Equal(64, v.GetInt("size"));
        Assert.False(v.IsSet("size"));
        Assert.Equal(0, v.Count("size"));
        Assert.False(v.GetBool("copy"));
        Assert.True(v.GetBool("no-rx"));
        Assert.Null(v.GetString("mode"));
        Assert.Equal("25G", v.GetString("speed"));
        Assert.Equal("none", v.GetString("label"));
        Assert.Null(v.GetMac("mac"));
        Assert.Null(v.GetMacBytes("mac"));
        Assert.Empty(v.GetStrings("iface"));
        Assert.Empty(v.GetInts("offset"));
        Assert.Empty(v.GetMacs("peer"));
        Assert.Empty(v.GetParenthesized("dev"));
        Assert.Throws<InvalidOperationException>(() => v.GetInt("hotplug_poll"));
    }

    [Fact]
    public void Every_kind_accepts_its_valid_forms()
    {
        DevargsValues v = Schema().Validate(
            "net_null0,size=0x80,hotplug_poll=+100,offset=-10,offset=10,copy,no-rx=false,iface=eth1,iface=a b,label=,"
            + "mac=02-00-0a-bB-00-01,peer=fe:ff:ff:ff:ff:ff,peer=00:00:00:00:00:00,mode=b,speed=10G,"
            + "dev(net_tap0,iface=a),dev(net_af_packet0,iface=(b)),exec(sh,-c,a=b),fd()");

        Assert.Equal(128, v.GetInt("size"));
        Assert.True(v.IsSet("size"));
        Assert.Equal(100, v.GetInt("hotplug_poll"));
        Assert.Equal([-10L, 10L], v.GetInts("offset").ToArray());
        Assert.Equal(10, v.GetInt("offset"));
        Assert.True(v.GetBool("copy"));
        Assert.False(v.GetBool("no-rx"));
        Assert.Equal(["eth1", "a b"], v.GetStrings("iface").ToArray());
        Assert.Equal("a b", v.GetString("iface"));
        Assert.Equal("", v.GetString("label"));
        Assert.Equal("02:00:0A:BB:00:01", v.GetMac("mac"));
        Assert.Equal(new byte[] { 0x02, 0x00, 0x0A, 0xBB, 0x00, 0x01 }, v.GetMacBytes("mac"));
        Assert.Equal(["FE:FF:FF:FF:FF:FF", "00:00:00:00:00:00"], v.GetMacs("peer").ToArray());
        Assert.Equal(2, v.Count("peer"));
        Assert.Equal("b", v.GetString("mode"));
        Assert.Equal("10G", v.GetString("speed"));
        Assert.Equal(["net_tap0,iface=a", "net_af_packet0,iface=(b)"], v.GetParenthesized("dev").ToArray());
        Assert.Equal(["sh,-c,a=b"], v.GetParenthesized("exec").ToArray());
        Assert.Equal([""], v.GetParenthesized("fd").ToArray());
        Assert.Equal("net_af_packet0", Devargs.Parse(v.GetParenthesized("dev")[1]).Name);
    }

    [Theory]
    [InlineData("copy=1", true)]
    [InlineData("copy=true", true)]
    [InlineData("copy", true)]
    [InlineData("copy=0", false)]
    [InlineData("copy=false", false)]
    public void Bool_values(string item, bool expected)
    {
        Assert.Equal(expected, Schema().Validate("net_null0," + item).GetBool("copy"));
    }

    [Fact]
    public void Mac_words_are_returned_as_given()
    {
        DevargsValues v = new DevargsSchema("net_tap").Mac("mac", allowedWords: ["fixed"]).Validate("net_tap0,mac=fixed");
        Assert.Equal("fixed", v.GetMac("mac"));
        Assert.Null(v.GetMacBytes("mac"));
    }

    [Fact]
    public void Mac_default_is_canonical()
    {
        var schema = new DevargsSchema("net_x").Mac("mac", @default: "0a-0b-0c-0d-0e-0f");
        Assert.Equal("0A:0B:0C:0D:0E:0F", schema.Validate("net_x0").GetMac("mac"));
        Assert.Equal(new byte[] { 10, 11, 12, 13, 14, 15 }, schema.Validate("net_x0").GetMacBytes("mac"));
    }

    public static TheoryData<string, string> InvalidValues => new()
    {
        { "net_null0,sizee=1", "net_null0: unknown key 'sizee' (valid keys: copy, dev, exec, fd, hotplug_poll, iface, label, mac, mode, no-rx, offset, peer, size, speed)" },
        { "net_null0,Size=1", "net_null0: unknown key 'Size' (valid keys: " },
        { "net_null0,size=abc", "net_null0: key 'size' = 'abc' is not an integer" },
        { "net_null0,size=", "net_null0: key 'size' = '' is not an integer" },
        { "net_null0,size= 5", "net_null0: key 'size' = ' 5' is not an integer" },
        { "net_null0,size=1.5", "net_null0: key 'size' = '1.5' is not an integer" },
        { "net_null0,size=0x", "net_null0: key 'size' = '0x' is not an integer" },
        { "net_null0,size=0xg", "net_null0: key 'size' = '0xg' is not an integer" },
        { "net_null0,size=0", "net_null0: key 'size' = '0' is out of range 1..65535" },
        { "net_null0,size=65536", "net_null0: key 'size' = '65536' is out of range 1..65535" },
        { "net_null0,size=-1", "net_null0: key 'size' = '-1' is out of range 1..65535" },
        { "net_null0,size=99999999999999999999", "net_null0: key 'size' = '99999999999999999999' is out of range 1..65535" },
        { "net_null0,size=0xFFFFFFFFFFFFFFFF", "net_null0: key 'size' = '0xFFFFFFFFFFFFFFFF' is out of range 1..65535" },
        { "net_null0,copy=2", "net_null0: key 'copy' = '2' is not a boolean (expected 0, 1, true or false)" },
        { "net_null0,copy=yes", "net_null0: key 'copy' = 'yes' is not a boolean" },
        { "net_null0,copy=", "net_null0: key 'copy' = '' is not a boolean" },
        { "net_null0,iface=", "net_null0: key 'iface' = '' must not be empty" },
        { "net_null0,iface=0123456789abcdef", "net_null0: key 'iface' = '0123456789abcdef' is longer than 15 characters" },
        { "net_null0,mac=zz", "net_null0: key 'mac' = 'zz' is not a MAC address (expected 02:00:00:00:00:01 or one of: fixed)" },
        { "net_null0,mac=02:00:00:00:00", "is not a MAC address" },
        { "net_null0,mac=02:00:00-00:00:01", "is not a MAC address" },
        { "net_null0,mac=2:0:0:0:0:1:", "is not a MAC address" },
        { "net_null0,mac=FIXED", "net_null0: key 'mac' = 'FIXED' is not a MAC address" },
        { "net_null0,peer=fixed", "net_null0: key 'peer' = 'fixed' is not a MAC address (expected 02:00:00:00:00:01)" },
        { "net_null0,mode=c", "net_null0: key 'mode' = 'c' is not one of: a, b" },
        { "net_null0,mode=A", "net_null0: key 'mode' = 'A' is not one of: a, b" },
        { "net_null0,dev()", "net_null0: key 'dev' = '' must not be empty" },
        { "net_null0,nodeaction=x", "net_null0: key 'nodeaction' of net_null is not supported by Hyperlane: use rx= and tx= instead" },
        { "net_null0,nodeaction", "net_null0: key 'nodeaction' of net_null is not supported by Hyperlane" },
        { "net_null0,dev=net_tap0", "net_null0: key 'dev' must be written as dev(...), not dev=..." },
        { "net_null0,dev", "net_null0: key 'dev' must be written as dev(...), not as a bare flag" },
        { "net_null0,size(3)", "net_null0: key 'size' must be written as size=<value>, not size(...)" },
        { "net_null0,size", "net_null0: key 'size' requires a value (size=<value>)" },
        { "net_null0,iface", "net_null0: key 'iface' requires a value (iface=<value>)" },
        { "net_null0,copy(1)", "net_null0: key 'copy' must be written as copy=<0|1> or copy, not copy(...)" },
        { "net_null0,size=1,size=2", "net_null0: key 'size' is given more than once (at positions 10 and 17)" },
        { "net_null0,copy,copy=0", "net_null0: key 'copy' is given more than once (at positions 10 and 15)" },
        { "net_null0,exec(a),exec(b)", "net_null0: key 'exec' is given more than once" },
        { "net_null0,dev(a),dev(b),dev(c)", "net_null0: key 'dev' is given more than 2 times" },
        { "net_null0,iface=a\nb,mode=x\u2028y", "net_null0: key 'mode' = 'x\\u2028y' is not one of: a, b" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Invalid_items_name_the_device_the_key_and_the_value(string devargs, string fragment)
    {
        DevargsException ex = Invalid(devargs);
        Assert.StartsWith("net_null0: key ", ex.Message.Replace("unknown key", "key", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.Equal("net_null0", ex.DeviceName);
        Assert.NotNull(ex.Key);
        Assert.Contains("'" + ex.Key + "'", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.Position);
    }

    [Fact]
    public void Unsupported_keys_are_not_listed_as_valid()
    {
        DevargsException ex = Invalid("net_null0,x=1");
        Assert.DoesNotContain("nodeaction", ex.Message, StringComparison.Ordinal);
        Assert.Equal("x", ex.Key);
        Assert.Equal(10, ex.Position);
    }

    [Fact]
    public void A_schema_with_no_keys_says_so()
    {
        DevargsException ex = Invalid("net_ring0,size=1", new DevargsSchema("net_ring"));
        Assert.Equal("net_ring0: unknown key 'size' (net_ring takes no keys)", ex.Message);
        Assert.NotNull(new DevargsSchema("net_ring").Validate("net_ring0"));
    }

    [Fact]
    public void Parse_errors_surface_through_validate_from_a_string()
    {
        DevargsException ex = Invalid("net_null0,dev(a");
        Assert.Equal("net_null0: unbalanced parentheses: '(' at position 13 is never closed", ex.Message);
        Assert.Null(ex.Key);
    }

    [Fact]
    public void Int_without_bounds_takes_the_whole_long_range()
    {
        var schema = new DevargsSchema("net_x").Int("n");
        Assert.Equal(long.MinValue, schema.Validate("net_x0,n=-9223372036854775808").GetInt("n"));
        Assert.Equal(long.MaxValue, schema.Validate("net_x0,n=0x7FFFFFFFFFFFFFFF").GetInt("n"));
        Assert.Contains("out of range", Invalid("net_x0,n=0x8000000000000000", schema).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Getters_refuse_undeclared_keys_and_the_wrong_kind()
    {
        DevargsValues v = Schema().Validate("net_null0");
        Assert.Throws<ArgumentException>(() => v.IsSet("nope"));
        Assert.Throws<ArgumentException>(() => v.GetInt("nope"));
        Assert.Throws<InvalidOperationException>(() => v.GetString("size"));
        Assert.Throws<InvalidOperationException>(() => v.GetBool("size"));
        Assert.Throws<InvalidOperationException>(() => v.GetMac("iface"));
        Assert.Throws<InvalidOperationException>(() => v.GetParenthesized("iface"));
        Assert.Throws<InvalidOperationException>(() => v.GetInts("copy"));
        Assert.False(v.IsSet("nodeaction"));
    }

    [Fact]
    public void Schema_definition_mistakes_are_argument_errors()
    {
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Bool("a").Int("a"));
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Bool("a b"));
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Bool(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DevargsSchema("net_x").Int("a", min: 5, max: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DevargsSchema("net_x").Int("a", min: 1, max: 5, @default: 6));
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Enum("a"));
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Enum("a", ["x"], @default: "y"));
        Assert.Throws<ArgumentException>(() => new DevargsSchema("net_x").Mac("a", @default: "nope"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DevargsSchema("net_x").Parenthesized("a", repeatable: true, max: 0));
        Assert.ThrowsAny<ArgumentException>(() => new DevargsSchema(" "));
        Assert.ThrowsAny<ArgumentException>(() => new DevargsSchema("net_x").Unsupported("a", ""));
    }

    [Fact]
    public void Keys_describe_themselves_for_help_output()
    {
        DevargsSchema schema = Schema();
        Assert.Equal("net_null", schema.DriverName);
        Assert.Equal(15, schema.Keys.Count);
        Assert.True(schema.TryGetKey("size", out DevargsKey? size));
        Assert.Equal(DevargsKeyKind.Int, size.Kind);
        Assert.False(size.Repeatable);
        Assert.Equal("size=<integer 1..65535> (default 64)", size.ToString());
        Assert.True(schema.TryGetKey("dev", out DevargsKey? dev));
        Assert.True(dev.Repeatable);
        Assert.Equal(2, dev.MaxCount);
        Assert.Equal("dev(...) (up to 2 times)", dev.ToString());
        Assert.True(schema.TryGetKey("mac", out DevargsKey? mac));
        Assert.Equal("mac=<02:00:00:00:00:01|fixed>", mac.ToString());
        Assert.True(schema.TryGetKey("speed", out DevargsKey? speed));
        Assert.Equal("speed=<10G|25G> (default 25G)", speed.ToString());
        Assert.True(schema.TryGetKey("iface", out DevargsKey? iface));
        Assert.Equal("iface=<string of at most 15 characters> (repeatable)", iface.ToString());
        Assert.True(schema.TryGetKey("copy", out DevargsKey? copy));
        Assert.Equal("copy[=0|1] (default 0)", copy.ToString());
        Assert.True(schema.TryGetKey("nodeaction", out DevargsKey? unsupported));
        Assert.Equal("nodeaction (not supported: use rx= and tx= instead)", unsupported.ToString());
        Assert.False(schema.TryGetKey("nope", out _));
    }
}
