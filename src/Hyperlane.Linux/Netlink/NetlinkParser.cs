using System.Buffers.Binary;
using System.Text;

namespace Hyperlane.Linux.Netlink;

/// <summary>
/// Parses what the kernel sends on a NETLINK_ROUTE socket. Every length and offset is checked against the
/// bytes actually received before use; anything that fails is reported as malformed, never read out of
/// bounds and never thrown.
/// </summary>
internal static class NetlinkParser
{
    /// <summary>
    /// Splits a datagram into messages. A header that is truncated, shorter than 16 bytes or longer than
    /// what remains ends the datagram (nothing after it can be located) and counts as one malformed message.
    /// </summary>
    /// <returns>How many malformed messages were found.</returns>
    public static int Split(ReadOnlySpan<byte> datagram, List<NetlinkMessage> messages)
    {
        int offset = 0;
        while (offset < datagram.Length)
        {
            ReadOnlySpan<byte> rest = datagram[offset..];
            if (rest.Length < Nl.HeaderSize)
            {
                return 1;
            }

            uint length = ReadU32(rest);
            if (length < Nl.HeaderSize || length > (uint)rest.Length)
            {
                return 1;
            }

            messages.Add(new NetlinkMessage(
                Type: ReadU16(rest[4..]),
                Flags: ReadU16(rest[6..]),
                Sequence: ReadU32(rest[8..]),
                PortId: ReadU32(rest[12..]),
                PayloadOffset: offset + Nl.HeaderSize,
                PayloadLength: (int)length - Nl.HeaderSize));
            offset += Math.Min(Nl.Align((int)length), rest.Length);
        }

        return 0;
    }

    /// <summary>Parses an RTM_NEWLINK/RTM_DELLINK payload (struct ifinfomsg + IFLA_* attributes).</summary>
    public static NetlinkParseStatus ParseLink(ReadOnlySpan<byte> payload, out LinkInfo? link, out uint change)
    {
        link = null;
        change = 0;
        if (payload.Length < Nl.IfInfoMsgSize)
        {
            return NetlinkParseStatus.Malformed;
        }

        int index = ReadI32(payload[4..]);
        var flags = (LinkFlags)ReadU32(payload[8..]);
        change = ReadU32(payload[12..]);
        string? name = null;
        byte[] address = [];
        int mtu = 0;
        string? kind = null;
        int? master = null;
        byte operState = 0;

        var attributes = new NetlinkAttributeReader(payload[Nl.IfInfoMsgSize..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            switch (type)
            {
                case Nl.IFLA_IFNAME:
                    name = ReadString(value);
                    break;
                case Nl.IFLA_ADDRESS:
                    if (value.Length > 32)
                    {
                        return NetlinkParseStatus.Malformed;
                    }

                    address = value.ToArray();
                    break;
                case Nl.IFLA_MTU:
                    if (value.Length < 4)
                    {
                        return NetlinkParseStatus.Malformed;
                    }

                    mtu = ReadI32(value);
                    break;
                case Nl.IFLA_MASTER:
                    if (value.Length < 4)
                    {
                        return NetlinkParseStatus.Malformed;
                    }

                    master = ReadI32(value);
                    break;
                case Nl.IFLA_OPERSTATE:
                    if (value.Length < 1)
                    {
                        return NetlinkParseStatus.Malformed;
                    }

                    operState = value[0];
                    break;
                case Nl.IFLA_LINKINFO:
                    var info = new NetlinkAttributeReader(value);
                    while (info.Next(out ushort infoType, out ReadOnlySpan<byte> infoValue))
                    {
                        if (infoType == Nl.IFLA_INFO_KIND)
                        {
                            kind = ReadString(infoValue);
                        }
                    }

                    if (info.Malformed)
                    {
                        return NetlinkParseStatus.Malformed;
                    }

                    break;
            }
        }

        if (attributes.Malformed || string.IsNullOrEmpty(name) || index <= 0)
        {
            return NetlinkParseStatus.Malformed;
        }

        link = new LinkInfo(index, name, address, mtu, flags, kind, master, operState);
        return NetlinkParseStatus.Ok;
    }

    /// <summary>Parses an RTM_NEWADDR payload (struct ifaddrmsg + IFA_*); other families than IPv4/IPv6 are ignored.</summary>
    public static NetlinkParseStatus ParseAddress(ReadOnlySpan<byte> payload, out AddressInfo? address)
    {
        address = null;
        if (payload.Length < Nl.IfAddrMsgSize)
        {
            return NetlinkParseStatus.Malformed;
        }

        int family = payload[0];
        int prefixLength = payload[1];
        int index = ReadI32(payload[4..]);
        byte[]? ifaAddress = null;
        byte[]? ifaLocal = null;
        var attributes = new NetlinkAttributeReader(payload[Nl.IfAddrMsgSize..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            if (type == Nl.IFA_ADDRESS)
            {
                ifaAddress = value.ToArray();
            }
            else if (type == Nl.IFA_LOCAL)
            {
                ifaLocal = value.ToArray();
            }
        }

        if (attributes.Malformed)
        {
            return NetlinkParseStatus.Malformed;
        }

        int expected = family switch
        {
            Nl.AF_INET => 4,
            Nl.AF_INET6 => 16,
            _ => 0,
        };
        if (expected == 0)
        {
            return NetlinkParseStatus.Ignored;
        }

        // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point links).
        byte[]? chosen = family == Nl.AF_INET ? ifaLocal ?? ifaAddress : ifaAddress ?? ifaLocal;
        if (chosen is null || chosen.Length != expected || prefixLength > expected * 8 || index <= 0)
        {
            return NetlinkParseStatus.Malformed;
        }

        address = new AddressInfo(index, family, chosen, prefixLength);
        return NetlinkParseStatus.Ok;
    }

    /// <summary>Parses a struct tcmsg header and its TCA_KIND (qdisc and filter messages share it).</summary>
    public static NetlinkParseStatus ParseTc(ReadOnlySpan<byte> payload, out int index, out uint handle, out uint parent, out uint info, out string? kind)
    {
        index = 0;
        handle = parent = info = 0;
        kind = null;
        if (payload.Length < Nl.TcMsgSize)
        {
            return NetlinkParseStatus.Malformed;
        }

        index = ReadI32(payload[4..]);
        handle = ReadU32(payload[8..]);
        parent = ReadU32(payload[12..]);
        info = ReadU32(payload[16..]);
        var attributes = new NetlinkAttributeReader(payload[Nl.TcMsgSize..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            if (type == Nl.TCA_KIND)
            {
                kind = ReadString(value);
            }
        }

        return attributes.Malformed || string.IsNullOrEmpty(kind) ? NetlinkParseStatus.Malformed : NetlinkParseStatus.Ok;
    }

    public static NetlinkParseStatus ParseQdisc(ReadOnlySpan<byte> payload, out QdiscInfo? qdisc)
    {
        NetlinkParseStatus status = ParseTc(payload, out int index, out uint handle, out uint parent, out _, out string? kind);
        qdisc = status == NetlinkParseStatus.Ok ? new QdiscInfo(index, kind!, handle, parent) : null;
        return status;
    }

    public static NetlinkParseStatus ParseFilter(ReadOnlySpan<byte> payload, out FilterInfo? filter)
    {
        NetlinkParseStatus status = ParseTc(payload, out int index, out uint handle, out uint parent, out uint info, out string? kind);
        filter = status == NetlinkParseStatus.Ok ? new FilterInfo(index, parent, (ushort)(info >> 16), handle, kind!) : null;
        return status;
    }

    /// <summary>
    /// Parses an NLMSG_ERROR payload (struct nlmsgerr, then the request unless NLM_F_CAPPED, then the
    /// extended-ack TLVs when NLM_F_ACK_TLVS). <paramref name="error"/> is 0 for an ACK or a negative errno.
    /// A bad TLV area only loses the kernel's text (<paramref name="tlvMalformed"/>); the errno stands.
    /// </summary>
    public static NetlinkParseStatus ParseError(ReadOnlySpan<byte> payload, ushort flags, out int error, out string? message, out bool tlvMalformed)
    {
        error = 0;
        message = null;
        tlvMalformed = false;
        if (payload.Length < Nl.ErrorHeaderSize)
        {
            return NetlinkParseStatus.Malformed;
        }

        error = ReadI32(payload);
        if (error > 0 || error < -4095)
        {
            return NetlinkParseStatus.Malformed;
        }

        if ((flags & Nl.NLM_F_ACK_TLVS) == 0)
        {
            return NetlinkParseStatus.Ok;
        }

        int tlvOffset = Nl.ErrorHeaderSize;
        if ((flags & Nl.NLM_F_CAPPED) == 0)
        {
            uint echoed = ReadU32(payload[4..]);
            if (echoed < Nl.HeaderSize || echoed > (uint)(payload.Length - 4))
            {
                tlvMalformed = true;
                return NetlinkParseStatus.Ok;
            }

            tlvOffset = Math.Min(4 + Nl.Align((int)echoed), payload.Length);
        }

        var attributes = new NetlinkAttributeReader(payload[tlvOffset..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            if (type == Nl.NLMSGERR_ATTR_MSG)
            {
                message = ReadString(value);
            }
        }

        tlvMalformed = attributes.Malformed;
        return NetlinkParseStatus.Ok;
    }

    /// <summary>NLMSG_DONE carries an int error (negative errno) on current kernels; an empty payload means 0.</summary>
    public static NetlinkParseStatus ParseDone(ReadOnlySpan<byte> payload, out int error)
    {
        error = 0;
        if (payload.IsEmpty)
        {
            return NetlinkParseStatus.Ok;
        }

        if (payload.Length < 4)
        {
            return NetlinkParseStatus.Malformed;
        }

        error = ReadI32(payload);
        return error > 0 || error < -4095 ? NetlinkParseStatus.Malformed : NetlinkParseStatus.Ok;
    }

    /// <summary>
    /// Parses every message of a datagram as a link, address, qdisc or filter (by type), the way the
    /// receive paths do. For tests that feed crafted bytes; never throws.
    /// </summary>
    internal static NetlinkParseSummary ParseDatagram(ReadOnlySpan<byte> datagram)
    {
        var summary = new NetlinkParseSummary();
        var messages = new List<NetlinkMessage>();
        summary.Malformed += Split(datagram, messages);
        foreach (NetlinkMessage message in messages)
        {
            ReadOnlySpan<byte> payload = message.Payload(datagram);
            NetlinkParseStatus status;
            switch (message.Type)
            {
                case Nl.RTM_NEWLINK or Nl.RTM_DELLINK:
                    status = ParseLink(payload, out LinkInfo? link, out _);
                    if (link is not null)
                    {
                        summary.Links.Add(link);
                    }

                    break;
                case Nl.RTM_NEWADDR:
                    status = ParseAddress(payload, out AddressInfo? address);
                    if (address is not null)
                    {
                        summary.Addresses.Add(address);
                    }

                    break;
                case Nl.RTM_NEWQDISC:
                    status = ParseQdisc(payload, out QdiscInfo? qdisc);
                    if (qdisc is not null)
                    {
                        summary.Qdiscs.Add(qdisc);
                    }

                    break;
                case Nl.RTM_NEWTFILTER:
                    status = ParseFilter(payload, out FilterInfo? filter);
                    if (filter is not null)
                    {
                        summary.Filters.Add(filter);
                    }

                    break;
                case Nl.NLMSG_ERROR:
                    status = ParseError(payload, message.Flags, out int error, out string? text, out bool tlvMalformed);
                    if (status == NetlinkParseStatus.Ok)
                    {
                        summary.Errors.Add((error, text));
                    }

                    if (tlvMalformed)
                    {
                        summary.Malformed++;
                    }

                    break;
                case Nl.NLMSG_DONE:
                    status = ParseDone(payload, out _);
                    break;
                default:
                    status = NetlinkParseStatus.Ignored;
                    break;
            }

            if (status == NetlinkParseStatus.Malformed)
            {
                summary.Malformed++;
            }
        }

        return summary;
    }

    /// <summary>A NUL-terminated (or unterminated) string attribute; invalid UTF-8 is replaced, never thrown.</summary>
    public static string ReadString(ReadOnlySpan<byte> value)
    {
        int end = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? value[..end] : value);
    }

    public static ushort ReadU16(ReadOnlySpan<byte> source) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(source) : BinaryPrimitives.ReadUInt16BigEndian(source);

    public static uint ReadU32(ReadOnlySpan<byte> source) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(source) : BinaryPrimitives.ReadUInt32BigEndian(source);

    public static int ReadI32(ReadOnlySpan<byte> source) => (int)ReadU32(source);
}
