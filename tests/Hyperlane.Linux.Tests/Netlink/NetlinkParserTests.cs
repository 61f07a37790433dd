using System.Buffers.Binary;
using Hyperlane.Linux.Netlink;

namespace Hyperlane.Linux.Tests.Netlink;

public class NetlinkParserTests
{
    [Fact]
    public void Parses_a_link_message()
    {
        byte[] mac = [2, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE];
        var summary = NetlinkParser.ParseDatagram(NetlinkCraft.Link(Nl.RTM_NEWLINK, 7, "veth7", up: true, mtu: 9000, mac: mac, master: 3));
        Assert.Equal(0, summary.Malformed);
        var link = Assert.Single(summary.Links);
        Assert.Equal(new LinkInfo(7, "veth7", mac, 9000, LinkFlags.Up | LinkFlags.Broadcast | LinkFlags.Running | LinkFlags.LowerUp, "veth", 3, 6), link);
        Assert.True(link.IsUp && link.HasCarrier && !link.Promiscuous && !link.AllMulticast);
    }

    [Fact]
    public void Parses_several_messages_in_one_datagram_and_stops_at_a_broken_one()
    {
        byte[] one = NetlinkCraft.Link(Nl.RTM_NEWLINK, 1, "a", up: true);
        byte[] two = NetlinkCraft.Link(Nl.RTM_NEWLINK, 2, "b", up: false, kind: null);
        var summary = NetlinkParser.ParseDatagram(NetlinkCraft.Concat(one, two, two[..9]));
        Assert.Equal(["a", "b"], summary.Links.Select(l => l.Name));
        Assert.Null(summary.Links[1].Kind);
        Assert.Equal(1, summary.Malformed);
    }

    [Fact]
    public void Parses_addresses_and_ignores_other_families()
    {
        var summary = NetlinkParser.ParseDatagram(NetlinkCraft.Concat(
            NetlinkCraft.Address(2, 5, [192, 0, 2, 1], 24),
            NetlinkCraft.Address(10, 5, System.Net.IPAddress.Parse("2001:db8::1").GetAddressBytes(), 64),
            NetlinkCraft.Address(17, 5, [1, 2, 3], 0)));
        Assert.Equal(0, summary.Malformed);
        Assert.Equal(new AddressInfo(5, 2, [192, 0, 2, 1], 24), summary.Addresses[0]);
        Assert.Equal(10, summary.Addresses[1].Family);
        Assert.Equal(2, summary.Addresses.Count);

        var wrongLength = NetlinkParser.ParseDatagram(NetlinkCraft.Address(2, 5, [192, 0, 2], 24));
        Assert.Empty(wrongLength.Addresses);
        Assert.Equal(1, wrongLength.Malformed);
        var badPrefix = NetlinkParser.ParseDatagram(NetlinkCraft.Address(2, 5, [192, 0, 2, 1], 33));
        Assert.Equal(1, badPrefix.Malformed);
    }

    [Fact]
    public void Parses_qdiscs_and_filters()
    {
        var summary = NetlinkParser.ParseDatagram(NetlinkCraft.Concat(
            NetlinkCraft.Tc(Nl.RTM_NEWQDISC, 4, 0xFFFF0000, 0xFFFFFFF1, 1, "ingress"),
            NetlinkCraft.Tc(Nl.RTM_NEWTFILTER, 4, 0x80000800, 0xFFFF0000, (10u << 16) | 0x0300, "u32")));
        Assert.Equal(new QdiscInfo(4, "ingress", 0xFFFF0000, 0xFFFFFFF1), Assert.Single(summary.Qdiscs));
        Assert.Equal(new FilterInfo(4, 0xFFFF0000, 10, 0x80000800, "u32"), Assert.Single(summary.Filters));

        var noKind = NetlinkCraft.Shrink(NetlinkCraft.Tc(Nl.RTM_NEWQDISC, 4, 0, 0, 0, "x"), 36);
        Assert.Equal(1, NetlinkParser.ParseDatagram(noKind).Malformed);
        Assert.Equal(1, NetlinkParser.ParseDatagram(NetlinkCraft.Shrink(noKind, 30)).Malformed);
    }

    [Fact]
    public void Parses_errors_with_and_without_the_extended_ack_text()
    {
        var summary = NetlinkParser.ParseDatagram(NetlinkCraft.Concat(
            NetlinkCraft.Error(-2, "Filter with specified priority/protocol not found"),
            NetlinkCraft.Error(0, null),
            NetlinkCraft.Error(-22, "Parent Qdisc doesn't exists", capped: false)));
        Assert.Equal(0, summary.Malformed);
        Assert.Equal((-2, "Filter with specified priority/protocol not found"), summary.Errors[0]);
        Assert.Equal((0, (string?)null), summary.Errors[1]);
        Assert.Equal((-22, "Parent Qdisc doesn't exists"), summary.Errors[2]);
    }

    [Fact]
    public void Broken_errors_are_counted_and_a_broken_text_keeps_the_errno()
    {
        byte[] good = NetlinkCraft.Error(-2, "text");
        Assert.Equal(1, NetlinkParser.ParseDatagram(NetlinkCraft.Shrink(good, 16 + 8)).Malformed);      // below struct nlmsgerr
        Assert.Equal(1, NetlinkParser.ParseDatagram(NetlinkCraft.WithU32(good, 16, 5)).Malformed);      // positive "errno"
        Assert.Equal(1, NetlinkParser.ParseDatagram(NetlinkCraft.WithU32(good, 16, 0x8000_0000)).Malformed);

        var badTlv = NetlinkParser.ParseDatagram(NetlinkCraft.WithU16(good, 36, 0x7000));                // TLV length past the end
        Assert.Equal((-2, (string?)null), Assert.Single(badTlv.Errors));
        Assert.Equal(1, badTlv.Malformed);

        byte[] uncapped = NetlinkCraft.Error(-22, "text", capped: false);
        var badEcho = NetlinkParser.ParseDatagram(NetlinkCraft.WithU32(uncapped, 20, 0xFFFF));            // echoed request past the end
        Assert.Equal((-22, (string?)null), Assert.Single(badEcho.Errors));
        Assert.Equal(1, badEcho.Malformed);
    }

    [Fact]
    public void Every_crafted_malformed_datagram_is_counted_once_and_yields_nothing()
    {
        foreach (byte[] bad in NetlinkCraft.Malformed())
        {
            var summary = NetlinkParser.ParseDatagram(bad);
            Assert.True(summary.Malformed == 1, $"{Convert.ToHexString(bad)}: {summary.Malformed} malformed");
            Assert.Empty(summary.Links);
        }

        Assert.Equal(0, NetlinkParser.ParseDatagram([]).Malformed);
    }

    [Fact]
    public void Random_corruption_never_throws()
    {
        var random = new Random(20240611);
        byte[][] seeds =
        [
            NetlinkCraft.Concat(NetlinkCraft.Link(Nl.RTM_NEWLINK, 3, "eth0", up: true, master: 9), NetlinkCraft.Address(10, 3, new byte[16], 64)),
            NetlinkCraft.Concat(NetlinkCraft.Tc(Nl.RTM_NEWTFILTER, 4, 1, 2, 3, "u32"), NetlinkCraft.Error(-95, "Specified qdisc kind is unknown", capped: false)),
        ];
        for (int i = 0; i < 20_000; i++)
        {
            byte[] datagram = [.. seeds[i % seeds.Length]];
            int flips = random.Next(1, 6);
            for (int f = 0; f < flips; f++)
            {
                datagram[random.Next(datagram.Length)] = (byte)random.Next(256);
            }

            int length = random.Next(4) == 0 ? random.Next(datagram.Length + 1) : datagram.Length;
            var summary = NetlinkParser.ParseDatagram(datagram.AsSpan(0, length));
            Assert.True(summary.Malformed >= 0);
        }

        for (int i = 0; i < 5_000; i++)
        {
            var noise = new byte[random.Next(0, 200)];
            random.NextBytes(noise);
            NetlinkParser.ParseDatagram(noise);
        }
    }

    [Fact]
    public void U32_selector_layout_matches_struct_tc_u32_sel_and_keys()
    {
        var match = U32Match.DestinationMac([0x02, 0x00, 0x00, 0x00, 0x0B, 0x01]);
        Assert.Equal([(0x02000000u, 0xFFFFFFFFu, -14), (0x0B010000u, 0xFFFF0000u, -10)], match.Keys);
        byte[] sel = RtNetlink.U32Selector(match);
        Assert.Equal(16 + (2 * 16), sel.Length);
        Assert.Equal(1, sel[0]);  // TC_U32_TERMINAL
        Assert.Equal(2, sel[2]);  // nkeys
        Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32BigEndian(sel.AsSpan(16)));   // mask (network order)
        Assert.Equal(0x02000000u, BinaryPrimitives.ReadUInt32BigEndian(sel.AsSpan(20)));   // val
        Assert.Equal(-14, BinaryPrimitives.ReadInt32LittleEndian(sel.AsSpan(24)));          // off
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(sel.AsSpan(28)));            // offmask
        Assert.Equal(0xFFFF0000u, BinaryPrimitives.ReadUInt32BigEndian(sel.AsSpan(32)));
        Assert.Equal(0x0B010000u, BinaryPrimitives.ReadUInt32BigEndian(sel.AsSpan(36)));
        Assert.Equal(-10, BinaryPrimitives.ReadInt32LittleEndian(sel.AsSpan(40)));

        var masked = U32Match.DestinationMac([0x33, 0x33, 1, 2, 3, 4], [0xFF, 0xFF, 0, 0, 0, 0]);
        Assert.Equal([(0x33330000u, 0xFFFF0000u, -14), (0u, 0u, -10)], masked.Keys);
        Assert.Equal((0u, 0u, 0), Assert.Single(U32Match.All.Keys));
        Assert.Throws<ArgumentException>(() => U32Match.DestinationMac([1, 2, 3]));
    }

    [Fact]
    public void Builder_nests_attributes_with_correct_lengths()
    {
        var builder = new NetlinkMessageBuilder(Nl.RTM_NEWTFILTER, Nl.NLM_F_REQUEST);
        builder.Reserve(20);
        int outer = builder.BeginNested(Nl.TCA_OPTIONS);
        builder.AttributeString(Nl.TCA_KIND, "abc");
        builder.AttributeU32(7, 42);
        builder.EndNested(outer);
        byte[] message = builder.Finish(99).ToArray();
        Assert.Equal((uint)message.Length, BinaryPrimitives.ReadUInt32LittleEndian(message));
        Assert.Equal(99u, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8)));

        var top = new NetlinkAttributeReader(message.AsSpan(16 + 20));
        Assert.True(top.Next(out ushort type, out ReadOnlySpan<byte> value));
        Assert.Equal(Nl.TCA_OPTIONS, type);
        Assert.Equal(8 + 8, value.Length); // "abc\0" attribute (8) + u32 attribute (8)
        var inner = new NetlinkAttributeReader(value);
        Assert.True(inner.Next(out type, out ReadOnlySpan<byte> kind));
        Assert.Equal("abc", NetlinkParser.ReadString(kind));
        Assert.True(inner.Next(out type, out ReadOnlySpan<byte> number));
        Assert.Equal(42u, NetlinkParser.ReadU32(number));
        Assert.False(inner.Next(out _, out _));
        Assert.False(inner.Malformed);
        Assert.False(top.Next(out _, out _));
    }

    [Fact]
    public void NetlinkException_message_names_request_errno_and_kernel_text()
    {
        var withText = new NetlinkException("RTM_NEWTFILTER u32 on ifindex 7", Errno.ENOENT, "Filter with specified priority/protocol not found");
        Assert.Equal("RTM_NEWTFILTER u32 on ifindex 7 failed: ENOENT (No such file or directory): kernel says: Filter with specified priority/protocol not found", withText.Message);
        Assert.Equal(Errno.ENOENT, withText.Error);
        var without = new NetlinkException("RTM_NEWQDISC ingress on ifindex 7", Errno.EEXIST, "");
        Assert.Null(without.KernelMessage);
        Assert.Equal("RTM_NEWQDISC ingress on ifindex 7 failed: EEXIST (File exists)", without.Message);
        Assert.IsAssignableFrom<LinuxException>(without);
    }
}
