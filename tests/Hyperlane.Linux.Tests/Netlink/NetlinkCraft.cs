using System.Buffers.Binary;
using Hyperlane.Linux.Netlink;

namespace Hyperlane.Linux.Tests.Netlink;

/// <summary>Builds netlink datagrams the way the kernel would, and broken variants of them.</summary>
internal static class NetlinkCraft
{
    public const int FirstAttribute = 16 + 16; // nlmsghdr + ifinfomsg

    public static byte[] Link(ushort type, int index, string name, bool up, int mtu = 1500, byte[]? mac = null, string? kind = "veth", int? master = null)
    {
        var builder = new NetlinkMessageBuilder(type, 0);
        Span<byte> header = builder.Reserve(16);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], up ? 0x10043u : 0x1002u);
        builder.AttributeString(Nl.IFLA_IFNAME, name);
        builder.AttributeU32(Nl.IFLA_MTU, (uint)mtu);
        builder.Attribute(Nl.IFLA_ADDRESS, mac ?? [2, 0, 0, 0, 0, 1]);
        builder.Attribute(Nl.IFLA_OPERSTATE, [up ? (byte)6 : (byte)2]);
        if (master is { } m)
        {
            builder.AttributeU32(Nl.IFLA_MASTER, (uint)m);
        }

        if (kind is not null)
        {
            int info = builder.BeginNested(Nl.IFLA_LINKINFO);
            builder.AttributeString(Nl.IFLA_INFO_KIND, kind);
            builder.EndNested(info);
        }

        return builder.Finish(1).ToArray();
    }

    public static byte[] Address(int family, int index, byte[] address, int prefix)
    {
        var builder = new NetlinkMessageBuilder(Nl.RTM_NEWADDR, Nl.NLM_F_MULTI);
        Span<byte> header = builder.Reserve(8);
        header[0] = (byte)family;
        header[1] = (byte)prefix;
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        builder.Attribute(Nl.IFA_ADDRESS, address);
        if (family == 2)
        {
            builder.Attribute(Nl.IFA_LOCAL, address);
        }

        return builder.Finish(1).ToArray();
    }

    public static byte[] Tc(ushort type, int index, uint handle, uint parent, uint info, string kind)
    {
        var builder = new NetlinkMessageBuilder(type, Nl.NLM_F_MULTI);
        Span<byte> header = builder.Reserve(20);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], handle);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], parent);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], info);
        builder.AttributeString(Nl.TCA_KIND, kind);
        return builder.Finish(1).ToArray();
    }

    /// <summary>An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and NETLINK_EXT_ACK.</summary>
    public static byte[] Error(int error, string? message, bool capped = true)
    {
        var builder = new NetlinkMessageBuilder(Nl.NLMSG_ERROR, (ushort)((capped ? Nl.NLM_F_CAPPED : 0) | (message is null ? 0 : Nl.NLM_F_ACK_TLVS)));
        Span<byte> err = builder.Reserve(capped ? 20 : 20 + 20);
        BinaryPrimitives.WriteInt32LittleEndian(err, error);
        BinaryPrimitives.WriteUInt32LittleEndian(err[4..], capped ? 16u : 36u); // the echoed request's nlmsg_len
        if (message is not null)
        {
            builder.AttributeString(Nl.NLMSGERR_ATTR_MSG, message);
        }

        return builder.Finish(1).ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>Datagrams each holding exactly one malformed link message (or a broken header).</summary>
    public static IEnumerable<byte[]> Malformed()
    {
        byte[] good = Link(Nl.RTM_NEWLINK, 7, "bad0", up: true);

        yield return good[..10];                                         // truncated nlmsghdr
        yield return WithU32(good, 0, 0);                                // nlmsg_len 0
        yield return WithU32(good, 0, 8);                                // nlmsg_len below the header size
        yield return WithU32(good, 0, 0xFFFF_FFF0);                      // huge nlmsg_len
        yield return WithU32(good, 0, (uint)good.Length + 4);            // nlmsg_len past the datagram
        yield return WithU16(good, FirstAttribute, 0x7FFF);              // attribute length past the end
        yield return WithU16(good, FirstAttribute, 2);                   // attribute length below its header
        yield return WithU16(good, FirstAttribute, 0);                   // attribute length 0
        yield return Shrink(good, 16 + 8);                               // payload shorter than ifinfomsg
        yield return Shrink(good, FirstAttribute + 2);                   // a dangling 2-byte attribute header

        var shortMtu = new NetlinkMessageBuilder(Nl.RTM_NEWLINK, 0);
        shortMtu.Reserve(16)[4] = 9;
        shortMtu.AttributeString(Nl.IFLA_IFNAME, "bad1");
        shortMtu.Attribute(Nl.IFLA_MTU, [1, 2]);                         // a u32 attribute of 2 bytes
        yield return shortMtu.Finish(1).ToArray();

        var badNest = new NetlinkMessageBuilder(Nl.RTM_NEWLINK, 0);
        badNest.Reserve(16)[4] = 9;
        badNest.AttributeString(Nl.IFLA_IFNAME, "bad2");
        badNest.Attribute(Nl.IFLA_LINKINFO, [0x40, 0, 1, 0, (byte)'v', 0, 0, 0]); // inner length past the nest
        yield return badNest.Finish(1).ToArray();

        var noName = new NetlinkMessageBuilder(Nl.RTM_NEWLINK, 0);
        noName.Reserve(16)[4] = 9;
        noName.AttributeU32(Nl.IFLA_MTU, 1500);                          // no IFLA_IFNAME
        yield return noName.Finish(1).ToArray();

        var hugeAddress = new NetlinkMessageBuilder(Nl.RTM_DELLINK, 0);
        hugeAddress.Reserve(16)[4] = 9;
        hugeAddress.AttributeString(Nl.IFLA_IFNAME, "bad3");
        hugeAddress.Attribute(Nl.IFLA_ADDRESS, new byte[300]);           // longer than MAX_ADDR_LEN
        yield return hugeAddress.Finish(1).ToArray();
    }

    public static byte[] WithU32(byte[] source, int offset, uint value)
    {
        byte[] copy = [.. source];
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    public static byte[] WithU16(byte[] source, int offset, ushort value)
    {
        byte[] copy = [.. source];
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    /// <summary>Cuts a message to <paramref name="length"/> bytes and fixes nlmsg_len to match.</summary>
    public static byte[] Shrink(byte[] source, int length) => WithU32(source[..length], 0, (uint)length);
}
