using Hyperlane.Core.Devices;

namespace Hyperlane.Core.Tests;

public class DevargsParserTests
{
    // Expected items are written "key=value" (KeyValue), "key(value)" (Parenthesized) or "key" (Flag),
    // split on the first '=' or '(' exactly like the grammar, so the table reads like the input.
    private static DevargsItem Expect(string item)
    {
        int mark = item.IndexOfAny(['=', '(']);
        if (mark < 0)
        {
            return new DevargsItem(item, "", DevargsItemForm.Flag);
        }

        return item[mark] == '='
            ? new DevargsItem(item[..mark], item[(mark + 1)..], DevargsItemForm.KeyValue)
            : new DevargsItem(item[..mark], item[(mark + 1)..^1], DevargsItemForm.Parenthesized);
    }

    public static TheoryData<string, string, string[]> ValidStrings => new()
    {
        { "net_null0", "net_null0", [] },
        { "  net_null0 \t", "net_null0", [] },
        { "net_null0,size=128,copy=1", "net_null0", ["size=128", "copy=1"] },
        {
            "net_failsafe0,dev(net_tap0,iface=a),dev(net_af_packet0,iface=b),mac=02:00:00:00:00:01,hotplug_poll=100",
            "net_failsafe0",
            ["dev(net_tap0,iface=a)", "dev(net_af_packet0,iface=b)", "mac=02:00:00:00:00:01", "hotplug_poll=100"]
        },
        { "net_failsafe0,exec(cat,/tmp/x),fd(14)", "net_failsafe0", ["exec(cat,/tmp/x)", "fd(14)"] },
        { "net_vdev_netvsc0,iface=eth1,iface=eth2,force=1", "net_vdev_netvsc0", ["iface=eth1", "iface=eth2", "force=1"] },
        { "net_tap0,remote=eth1", "net_tap0", ["remote=eth1"] },
        { "net_vhost0,iface=/tmp/vhost.sock,queues=1", "net_vhost0", ["iface=/tmp/vhost.sock", "queues=1"] },
        { "net_null0,copy,no-rx", "net_null0", ["copy", "no-rx"] },
        { "net_failsafe0,exec(sh,-c,a=b)", "net_failsafe0", ["exec(sh,-c,a=b)"] },
        { "net_x0,key=a=b", "net_x0", ["key=a=b"] },
        { "net_x0,key=", "net_x0", ["key="] },
        { "net_x0,key()", "net_x0", ["key()"] },
        { "net_x0,key=f(a,b),k2=v", "net_x0", ["key=f(a,b)", "k2=v"] },
        { "net_x0,key=(a)(b)", "net_x0", ["key=(a)(b)"] },
        {
            "net_failsafe0,dev(net_failsafe1,dev(net_tap0,iface=a),exec(x,(y,z))),mac=fixed",
            "net_failsafe0",
            ["dev(net_failsafe1,dev(net_tap0,iface=a),exec(x,(y,z)))", "mac=fixed"]
        },
        { "net_x0,msg=hello world ,k=v", "net_x0", ["msg=hello world ", "k=v"] },
        { "net_x0,exec( spaced  ( out ) )", "net_x0", ["exec( spaced  ( out ) )"] },
        { "net_x0,path=/tmp/é中", "net_x0", ["path=/tmp/é中"] },
        { "0000:03:00.0,rx_copybreak=256", "0000:03:00.0", ["rx_copybreak=256"] },
        { "f8615163-df3e-46c5-913f-f2d2f965ed0e", "f8615163-df3e-46c5-913f-f2d2f965ed0e", [] },
        { "net_x0,a.b-c_D9=1", "net_x0", ["a.b-c_D9=1"] },
        { "net_x0," + Nest(16), "net_x0", [Nest(16)] },
        { "net_x0,k=" + Nest(16), "net_x0", ["k=" + Nest(16)] },
    };

    [Theory]
    [MemberData(nameof(ValidStrings))]
    public void Valid_strings_parse_to_the_expected_tree(string source, string name, string[] expected)
    {
        Devargs d = Devargs.Parse(source);

        Assert.Equal(name, d.Name);
        Assert.Equal(source, d.Source);
        Assert.Equal(expected.Select(Expect).ToArray(), d.Items.ToArray());
        Assert.Equal(source.Trim(), d.ToString());
        Assert.True(Devargs.TryParse(source, out Devargs? again, out string? error));
        Assert.Null(error);
        Assert.Equal(d, again);
        Assert.Equal(d.GetHashCode(), again.GetHashCode());
    }

    public static TheoryData<string, string> MalformedStrings => new()
    {
        { "", "devargs: the devargs string is empty" },
        { "   \t ", "devargs: the devargs string is empty" },
        { "net_failsafe0,dev(net_tap0", "net_failsafe0: unbalanced parentheses: '(' at position 17 is never closed" },
        { "net_failsafe0,dev(a(b)", "net_failsafe0: unbalanced parentheses: '(' at position 17 is never closed" },
        { "net_x0,dev(a))", "net_x0: unbalanced parentheses: unexpected ')' at position 13" },
        { "net_x0,)(", "net_x0: unbalanced parentheses: unexpected ')' at position 7" },
        { "  net_x0,k=(", "net_x0: unbalanced parentheses: '(' at position 11 is never closed" },
        { "net_null0,,size=1", "net_null0: empty item at position 10 (two commas in a row)" },
        { "net_null0,size=1,", "net_null0: trailing comma at position 16" },
        { "net_null0,", "net_null0: trailing comma at position 9" },
        { "net_null0,=1", "net_null0: empty key at position 10" },
        { "net_null0,(x)", "net_null0: empty key at position 10" },
        { "=1", "devargs: empty device name at position 0" },
        { ",size=1", "devargs: empty device name at position 0" },
        { "size=1,net_null0", "devargs: device name is missing: the string starts with the item 'size=1'" },
        { "net null0", "devargs: invalid device name 'net null0'" },
        { "net_null0!", "devargs: invalid device name 'net_null0!'" },
        { "net_nullé0,size=1", "devargs: invalid device name 'net_nullé0'" },
        { "net_null0, size=1", "net_null0: invalid key ' size' at position 10: keys must not contain whitespace" },
        { "net_null0,si ze=1", "net_null0: invalid key 'si ze' at position 10: keys must not contain whitespace" },
        { "net_null0,si/ze=1", "net_null0: invalid key 'si/ze' at position 10: keys may contain only A-Z, a-z, 0-9, '_', '-' and '.'" },
        { "net_null0,sizé", "net_null0: invalid key 'sizé' at position 10" },
        { "net_x0,dev(a)b", "net_x0: unexpected text 'b' after ')' at position 13" },
        { "net_x0,dev(a)=b,c", "net_x0: unexpected text '=b' after ')' at position 13" },
        { "net_x0,dev(a)(b)", "net_x0: unexpected text '(b)' after ')' at position 13" },
        { "net_x0," + Nest(17), "net_x0: parentheses nested deeper than 16 levels at position 40" },
        { "net_x0,k=" + Nest(17) + ",b", "net_x0: parentheses nested deeper than 16 levels at position 42" },
        { "net_x0,k=\nv,", "net_x0: trailing comma at position 11" },
        { "net_x0,k\n=v", "net_x0: invalid key 'k\\n' at position 7: keys must not contain whitespace" },
    };

    [Theory]
    [MemberData(nameof(MalformedStrings))]
    public void Malformed_strings_are_rejected_with_a_message_that_says_where_and_what(string source, string fragment)
    {
        var ex = Assert.Throws<DevargsException>(() => Devargs.Parse(source));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.Key);
        AssertOneLine(ex.Message);

        Assert.False(Devargs.TryParse(source, out Devargs? result, out string? error));
        Assert.Null(result);
        Assert.Equal(ex.Message, error);
    }

    [Fact]
    public void Parse_errors_record_the_device_name_and_position()
    {
        var ex = Assert.Throws<DevargsException>(() => Devargs.Parse("net_failsafe0,dev(net_tap0"));
        Assert.Equal("net_failsafe0", ex.DeviceName);
        Assert.Equal(17, ex.Position);
        Assert.Equal("unbalanced parentheses: '(' at position 17 is never closed", ex.Detail);
        Assert.IsAssignableFrom<FormatException>(ex);

        var noName = Assert.Throws<DevargsException>(() => Devargs.Parse("=1"));
        Assert.Equal("", noName.DeviceName);
    }

    [Fact]
    public void Long_or_multiline_text_in_messages_is_escaped_and_cut()
    {
        string key = "k" + new string('x', 200) + " ";
        var ex = Assert.Throws<DevargsException>(() => Devargs.Parse("net_x0," + key + "=1"));
        Assert.Contains("...'", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 200, ex.Message);

        var ctl = Assert.Throws<DevargsException>(() => Devargs.Parse("net_x0,a\u2028b\u0001=1"));
        Assert.Contains("'a\\u2028b\\u0001'", ctl.Message, StringComparison.Ordinal);
        AssertOneLine(ctl.Message);
    }

    [Fact]
    public void Null_input()
    {
        Assert.Throws<ArgumentNullException>(() => Devargs.Parse(null!));
        Assert.False(Devargs.TryParse(null, out _, out string? error));
        Assert.Equal("devargs: the devargs string is null", error);
    }

    [Fact]
    public void Items_keep_their_positions_in_the_untrimmed_source()
    {
        Devargs d = Devargs.Parse("  net_x0,a=1,dev(b,c=2),flag");
        Assert.Equal([9, 13, 24], d.Items.Select(i => i.Position).ToArray());
        Assert.Equal("  net_x0,a=1,dev(b,c=2),flag", d.Source);
        Assert.Equal("net_x0,a=1,dev(b,c=2),flag", d.ToString());
    }

    [Fact]
    public void Helpers_find_items_by_key()
    {
        Devargs d = Devargs.Parse("net_vdev_netvsc0,iface=eth1,force,iface=eth2,dev(x)");

        Assert.Equal(["eth1", "eth2"], d.GetAll("iface").Select(i => i.Value).ToArray());
        Assert.Empty(d.GetAll("mac"));
        Assert.True(d.TryGet("iface", out string? last));
        Assert.Equal("eth2", last);
        Assert.True(d.TryGet("force", out string? flag));
        Assert.Equal("", flag);
        Assert.True(d.TryGet("dev", out string? dev));
        Assert.Equal("x", dev);
        Assert.False(d.TryGet("IFACE", out _));
        Assert.True(d.Has("force"));
        Assert.False(d.Has("mac"));
    }

    [Fact]
    public void Nested_dev_content_parses_as_its_own_devargs()
    {
        Devargs outer = Devargs.Parse("net_failsafe0,dev(net_tap0,iface=a,remote=(x,y)),exec(cat,/tmp/x)");
        Devargs inner = Devargs.Parse(outer.GetAll("dev")[0].Value);

        Assert.Equal("net_tap0", inner.Name);
        Assert.Equal([Expect("iface=a"), Expect("remote=(x,y)")], inner.Items.ToArray());
        Assert.Throws<DevargsException>(() => Devargs.Parse(outer.GetAll("exec")[0].Value.Replace("cat", "c t", StringComparison.Ordinal)));
    }

    [Fact]
    public void Items_list_is_read_only()
    {
        Devargs d = Devargs.Parse("net_x0,a=1");
        Assert.False(d.Items is DevargsItem[]);
        Assert.Throws<NotSupportedException>(() => ((IList<DevargsItem>)d.Items).Add(Expect("b=2")));
    }

    [Fact]
    public void Equality_ignores_source_and_positions_but_not_form_or_order()
    {
        Assert.Equal(Devargs.Parse(" net_x0,a=1,b"), Devargs.Parse("net_x0,a=1,b"));
        Assert.NotEqual(Devargs.Parse("net_x0,a=1,b"), Devargs.Parse("net_x0,b,a=1"));
        Assert.NotEqual(Devargs.Parse("net_x0,a(1)"), Devargs.Parse("net_x0,a=1"));
        Assert.NotEqual(Devargs.Parse("net_x0,a"), Devargs.Parse("net_x0,a="));
        Assert.NotEqual(Devargs.Parse("net_x0"), Devargs.Parse("net_x1"));
        Assert.False(Devargs.Parse("net_x0").Equals(null));
    }

    [Fact]
    public void Trees_built_in_code_print_and_reparse()
    {
        var inner = new Devargs("net_tap0", [new DevargsItem("iface", "a", DevargsItemForm.KeyValue)]);
        var outer = new Devargs("net_failsafe0",
        [
            new DevargsItem("dev", inner.ToString(), DevargsItemForm.Parenthesized),
            new DevargsItem("exec", "sh,-c,a=b", DevargsItemForm.Parenthesized),
            new DevargsItem("mac", "02:00:00:00:00:01", DevargsItemForm.KeyValue),
            new DevargsItem("force", "", DevargsItemForm.Flag),
        ]);

        Assert.Equal("net_failsafe0,dev(net_tap0,iface=a),exec(sh,-c,a=b),mac=02:00:00:00:00:01,force", outer.ToString());
        Assert.Equal(outer.ToString(), outer.Source);
        Assert.Equal(outer, Devargs.Parse(outer.ToString()));
        Assert.Equal(-1, outer.Items[0].Position);
        Assert.Equal("dev(net_tap0,iface=a)", outer.Items[0].ToString());
        Assert.Equal("force", outer.Items[3].ToString());
    }

    [Theory]
    [InlineData("", "v", DevargsItemForm.KeyValue)]
    [InlineData("a b", "v", DevargsItemForm.KeyValue)]
    [InlineData("k", "a,b", DevargsItemForm.KeyValue)]
    [InlineData("k", "(a", DevargsItemForm.KeyValue)]
    [InlineData("k", "a)", DevargsItemForm.Parenthesized)]
    [InlineData("k", ")(", DevargsItemForm.Parenthesized)]
    [InlineData("k", "v", DevargsItemForm.Flag)]
    public void Items_that_could_not_round_trip_are_refused(string key, string value, DevargsItemForm form)
    {
        Assert.ThrowsAny<ArgumentException>(() => new DevargsItem(key, value, form));
    }

    [Fact]
    public void Composed_items_respect_the_nesting_limit()
    {
        string fifteen = Nest(15);
        Assert.Equal(fifteen, new DevargsItem("k", fifteen, DevargsItemForm.Parenthesized).Value);
        Assert.Throws<ArgumentException>(() => new DevargsItem("k", Nest(16), DevargsItemForm.Parenthesized));
        Assert.Equal(Nest(16), new DevargsItem("k", Nest(16), DevargsItemForm.KeyValue).Value);
        Assert.Throws<ArgumentException>(() => new DevargsItem("k", Nest(17), DevargsItemForm.KeyValue));
    }

    [Fact]
    public void Devargs_constructor_refuses_bad_names_and_a_trailing_space_that_parsing_would_trim()
    {
        Assert.Throws<ArgumentException>(() => new Devargs("net x", []));
        Assert.Throws<ArgumentException>(() => new Devargs("", []));
        Assert.Throws<ArgumentException>(() => new Devargs("net_x0", [new DevargsItem("k", "v ", DevargsItemForm.KeyValue)]));
        var ok = new Devargs("net_x0", [new DevargsItem("k", "v ", DevargsItemForm.KeyValue), new DevargsItem("f", "", DevargsItemForm.Flag)]);
        Assert.Equal(ok, Devargs.Parse(ok.ToString()));
    }

    [Fact]
    public void Exception_constructor_keeps_messages_on_one_line()
    {
        var ex = new DevargsException("net_x0", "k", "bad\nthing");
        Assert.Equal("net_x0: bad thing", ex.Message);
        Assert.Equal("k", ex.Key);
        Assert.Null(ex.Position);
        Assert.Equal("devargs: oops", new DevargsException("", null, "oops").Message);
    }

    /// <summary><paramref name="depth"/> nested parentheses: "a(a(...x...))".</summary>
    private static string Nest(int depth) => string.Concat(Enumerable.Repeat("a(", depth)) + "x" + new string(')', depth);

    internal static void AssertOneLine(string message)
    {
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
        Assert.DoesNotContain('\u2028', message);
        Assert.DoesNotContain("Exception", message, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
    }
}
