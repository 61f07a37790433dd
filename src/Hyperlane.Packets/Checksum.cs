using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Hyperlane.Packets;

/// <summary>
/// The Internet checksum (RFC 1071; incremental properties in RFC 1624). Sums are 16-bit values in
/// network-order meaning (the value you would write with <see cref="BinaryPrimitives.WriteUInt16BigEndian"/>).
/// "Checksum" results are already complemented and ready to store in a header.
/// </summary>
public static class Checksum
{
    /// <summary>
    /// One's-complement sum of <paramref name="data"/> as big-endian 16-bit words (an odd last byte is
    /// padded with zero), plus <paramref name="initial"/>, folded to 16 bits (0..0xFFFF). Chain calls by
    /// passing one result as the next <paramref name="initial"/>; every span but the last must have even length.
    /// </summary>
    public static ushort Ones(ReadOnlySpan<byte> data, uint initial = 0)
    {
        // The one's-complement sum is byte-order independent (RFC 1071 section 2(B)): add native-order
        // words, swap the folded result once at the end. Each 8-byte word is split into 32-bit halves
        // added into a 64-bit accumulator, which cannot overflow for any span length an int allows.
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        ulong sum0 = 0;
        ulong sum1 = 0;
        int i = 0;
        for (; i + 1 < words.Length; i += 2)
        {
            ulong a = words[i];
            ulong b = words[i + 1];
            sum0 += (uint)a + (a >> 32);
            sum1 += (uint)b + (b >> 32);
        }

        if (i < words.Length)
        {
            ulong a = words[i];
            sum0 += (uint)a + (a >> 32);
        }

        ulong sum = sum0 + sum1;
        ReadOnlySpan<byte> tail = data[(words.Length * sizeof(ulong))..];
        if (tail.Length >= 4)
        {
            sum += MemoryMarshal.Read<uint>(tail);
            tail = tail[4..];
        }

        if (tail.Length >= 2)
        {
            sum += MemoryMarshal.Read<ushort>(tail);
            tail = tail[2..];
        }

        if (!tail.IsEmpty)
        {
            // The odd byte is the high-order byte of a zero-padded big-endian word.
            sum += BitConverter.IsLittleEndian ? tail[0] : (uint)tail[0] << 8;
        }

        ushort folded = Fold(sum);
        if (BitConverter.IsLittleEndian)
        {
            folded = BinaryPrimitives.ReverseEndianness(folded);
        }

        return Fold((ulong)folded + initial);
    }

    /// <summary>Folds the carries of a 32-bit one's-complement accumulator into 16 bits (no complement).</summary>
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>Folds the carries of a 64-bit one's-complement accumulator into 16 bits (no complement).</summary>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        return Fold((uint)sum);
    }

    /// <summary>
    /// The checksum for an IPv4 header (RFC 791): <paramref name="header"/> is the whole header (IHL * 4 bytes);
    /// the checksum field (bytes 10..11) is treated as zero, so it need not be cleared first.
    /// </summary>
    public static ushort Ipv4Header(ReadOnlySpan<byte> header)
    {
        if (header.Length < Packets.Ipv4Header.MinLength)
        {
            ThrowHelper.TooShort(nameof(header), header.Length, Packets.Ipv4Header.MinLength, "An IPv4 header");
        }

        if (header.Length == Packets.Ipv4Header.MinLength)
        {
            // The usual 20-byte header in five reads, the checksum field left out (same sum as the general path).
            ulong sum = (ulong)MemoryMarshal.Read<uint>(header) + MemoryMarshal.Read<uint>(header[4..])
                + MemoryMarshal.Read<ushort>(header[8..]) + MemoryMarshal.Read<uint>(header[12..])
                + MemoryMarshal.Read<uint>(header[16..]);
            ushort folded = Fold(sum);
            return (ushort)~(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded);
        }

        return (ushort)~Ones(header[12..], Ones(header[..10]));
    }

    /// <summary>Folded sum of the IPv4 pseudo header (RFC 768 / RFC 9293 section 3.1): addresses, protocol, L4 length.</summary>
    public static ushort Ipv4PseudoHeaderSum(uint source, uint destination, byte protocol, ushort l4Length)
    {
        uint sum = (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + protocol + l4Length;
        return Fold(sum);
    }

    /// <summary>Folded sum of the IPv6 pseudo header (RFC 8200 section 8.1): addresses, upper-layer length, next header.</summary>
    public static ushort Ipv6PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, uint l4Length)
    {
        if (source.Length != Packets.Ipv6Header.AddressLength)
        {
            ThrowHelper.Argument(nameof(source), "An IPv6 address is 16 bytes.");
        }

        if (destination.Length != Packets.Ipv6Header.AddressLength)
        {
            ThrowHelper.Argument(nameof(destination), "An IPv6 address is 16 bytes.");
        }

        uint sum = Ones(destination, Ones(source));
        return Fold(sum + (l4Length >> 16) + (l4Length & 0xFFFF) + nextHeader);
    }

    /// <summary>
    /// The UDP, TCP or ICMP checksum for the IPv4 packet <paramref name="ipv4Packet"/> (starting at the IPv4
    /// header; its length field bounds the L4 bytes). The L4 checksum field is treated as zero. UDP and TCP
    /// include the pseudo header, ICMP does not; a UDP result of 0 is sent as 0xFFFF (RFC 768).
    /// </summary>
    /// <exception cref="ArgumentException">The IPv4 header is malformed or the protocol is not UDP, TCP or ICMP.</exception>
    public static ushort L4Ipv4(ReadOnlySpan<byte> ipv4Packet)
    {
        if (ipv4Packet.Length < Packets.Ipv4Header.MinLength)
        {
            ThrowHelper.TooShort(nameof(ipv4Packet), ipv4Packet.Length, Packets.Ipv4Header.MinLength, "An IPv4 packet");
        }

        int headerLength = (ipv4Packet[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ipv4Packet[2..]);
        if (headerLength < Packets.Ipv4Header.MinLength || totalLength < headerLength || totalLength > ipv4Packet.Length)
        {
            ThrowHelper.Argument(nameof(ipv4Packet), "The IPv4 header length or total length does not fit the span.");
        }

        byte protocol = ipv4Packet[9];
        ReadOnlySpan<byte> l4 = ipv4Packet[headerLength..totalLength];
        uint pseudo = protocol == IpProtocols.Icmp
            ? 0U
            : Ipv4PseudoHeaderSum(
                BinaryPrimitives.ReadUInt32BigEndian(ipv4Packet[12..]),
                BinaryPrimitives.ReadUInt32BigEndian(ipv4Packet[16..]),
                protocol,
                (ushort)l4.Length);
        return L4(l4, protocol, pseudo, nameof(ipv4Packet));
    }

    /// <summary>
    /// The UDP, TCP or ICMPv6 checksum for the IPv6 packet <paramref name="ipv6Packet"/> (starting at the IPv6
    /// header; extension headers are skipped). The L4 checksum field is treated as zero; a UDP result of 0
    /// becomes 0xFFFF. The pseudo header uses the header's destination (a routing header's final one is not applied).
    /// </summary>
    /// <exception cref="ArgumentException">The IPv6 header is malformed or the upper layer is not UDP, TCP or ICMPv6.</exception>
    public static ushort L4Ipv6(ReadOnlySpan<byte> ipv6Packet)
    {
        const int FixedLength = Packets.Ipv6Header.Length;
        if (ipv6Packet.Length < FixedLength)
        {
            ThrowHelper.TooShort(nameof(ipv6Packet), ipv6Packet.Length, FixedLength, "An IPv6 packet");
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ipv6Packet[4..]);
        if (payloadLength > ipv6Packet.Length - FixedLength)
        {
            ThrowHelper.Argument(nameof(ipv6Packet), "The IPv6 payload length does not fit the span.");
        }

        ReadOnlySpan<byte> payload = ipv6Packet.Slice(FixedLength, payloadLength);
        if (!Ipv6ExtensionHeaders.TrySkip(payload, ipv6Packet[6], out byte protocol, out int offset, out _, out _))
        {
            ThrowHelper.Argument(nameof(ipv6Packet), "The IPv6 extension headers are truncated or too many.");
        }

        ReadOnlySpan<byte> l4 = payload[offset..];
        uint pseudo = Ipv6PseudoHeaderSum(ipv6Packet.Slice(8, 16), ipv6Packet.Slice(24, 16), protocol, (uint)l4.Length);
        return L4(l4, protocol, pseudo, nameof(ipv6Packet));
    }

    private static ushort L4(ReadOnlySpan<byte> l4, byte protocol, uint initial, string paramName)
    {
        int checksumOffset = protocol switch
        {
            IpProtocols.Tcp => 16,
            IpProtocols.Udp => 6,
            IpProtocols.Icmp or IpProtocols.IcmpV6 => 2,
            _ => -1,
        };
        if (checksumOffset < 0)
        {
            ThrowHelper.Argument(paramName, "Only UDP, TCP, ICMP and ICMPv6 checksums are computed.");
        }

        if (l4.Length < checksumOffset + 2)
        {
            ThrowHelper.Argument(paramName, "The L4 header is truncated.");
        }

        ushort result = (ushort)~Ones(l4[(checksumOffset + 2)..], Ones(l4[..checksumOffset], initial));
        return protocol == IpProtocols.Udp && result == 0 ? (ushort)0xFFFF : result;
    }
}
