using System.Buffers.Binary;

namespace Hyperlane.Packets.Tests;

/// <summary>Deliberately naive RFC 1071 arithmetic, one big-endian word at a time, to check the fast code against.</summary>
internal static class ReferenceChecksum
{
    public static ushort Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        for (int i = 0; i < data.Length; i += 2)
        {
            uint word = (uint)data[i] << 8;
            if (i + 1 < data.Length)
            {
                word |= data[i + 1];
            }

            sum += word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    /// <summary>Sum over an explicitly built IPv4 pseudo header followed by the L4 bytes.</summary>
    public static ushort Ipv4L4Sum(uint source, uint destination, byte protocol, ReadOnlySpan<byte> l4)
    {
        var buffer = new byte[12 + l4.Length];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, source);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), destination);
        buffer[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(10), (ushort)l4.Length);
        l4.CopyTo(buffer.AsSpan(12));
        return Sum(buffer);
    }

    /// <summary>Sum over an explicitly built IPv6 pseudo header followed by the L4 bytes.</summary>
    public static ushort Ipv6L4Sum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, ReadOnlySpan<byte> l4)
    {
        var buffer = new byte[40 + l4.Length];
        source.CopyTo(buffer);
        destination.CopyTo(buffer.AsSpan(16));
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(32), (uint)l4.Length);
        buffer[39] = nextHeader;
        l4.CopyTo(buffer.AsSpan(40));
        return Sum(buffer);
    }
}
