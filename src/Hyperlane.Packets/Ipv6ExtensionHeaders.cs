using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>Walks IPv6 extension headers (RFC 8200 section 4; AH per RFC 4302 section 2.2).</summary>
internal static class Ipv6ExtensionHeaders
{
    /// <summary>Longer chains are treated as malformed rather than walked.</summary>
    public const int MaxHeaders = 8;

    /// <summary>
    /// Skips extension headers at the start of <paramref name="payload"/> (the bytes after the fixed header,
    /// bounded by the payload length). Returns false when one is truncated or there are too many.
    /// <paramref name="fragment"/> is set when a fragment header was seen; <paramref name="laterFragment"/> when its
    /// offset is nonzero: the walk stops there, since the upper-layer header is in the first fragment.
    /// </summary>
    public static bool TrySkip(
        ReadOnlySpan<byte> payload, byte nextHeader, out byte protocol, out int offset, out bool fragment, out bool laterFragment)
    {
        offset = 0;
        fragment = false;
        laterFragment = false;
        for (int count = 0; count <= MaxHeaders; count++)
        {
            ReadOnlySpan<byte> header = payload[offset..];
            int length = Length(header, nextHeader);
            if (length == 0)
            {
                protocol = nextHeader;
                return true;
            }

            if (length < 0 || length > header.Length)
            {
                break;
            }

            if (nextHeader == IpProtocols.Ipv6Fragment)
            {
                fragment = true;
                laterFragment = (BinaryPrimitives.ReadUInt16BigEndian(header[2..]) & 0xFFF8) != 0;
            }

            nextHeader = header[0];
            offset += length;
            if (laterFragment)
            {
                protocol = nextHeader;
                return true;
            }
        }

        protocol = 0;
        return false;
    }

    /// <summary>Length of the extension header at the start of <paramref name="header"/>: 0 if <paramref name="type"/> is not one, -1 if truncated.</summary>
    private static int Length(ReadOnlySpan<byte> header, byte type)
    {
        bool extension = type is IpProtocols.Ipv6HopByHop or IpProtocols.Ipv6Routing or IpProtocols.Ipv6DestinationOptions
            or IpProtocols.Ipv6Fragment or IpProtocols.Ah;
        if (!extension)
        {
            return 0;
        }

        if (header.Length < 8)
        {
            return -1;
        }

        return type switch
        {
            IpProtocols.Ipv6Fragment => 8,
            IpProtocols.Ah => (header[1] + 2) * 4,
            _ => (header[1] + 1) * 8,
        };
    }
}
