namespace Hyperlane.Linux.Netlink;

/// <summary>
/// One validated netlink message inside a received datagram: its header fields and where its payload
/// (after the 16-byte nlmsghdr) lies in that datagram.
/// </summary>
internal readonly record struct NetlinkMessage(ushort Type, ushort Flags, uint Sequence, uint PortId, int PayloadOffset, int PayloadLength)
{
    public ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> datagram) => datagram.Slice(PayloadOffset, PayloadLength);
}
