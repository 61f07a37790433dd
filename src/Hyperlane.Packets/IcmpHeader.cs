using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// View of an ICMP header (RFC 792): type, code, checksum and, for echo messages, identifier and sequence.
/// The layout also fits ICMPv6 echo (RFC 4443 section 4.1, types 128/129).
/// </summary>
public readonly ref struct IcmpHeader
{
    public const int Length = 8;
    public const byte EchoReply = 0;
    public const byte EchoRequest = 8;

    private readonly Span<byte> _bytes;

    public IcmpHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "An ICMP header");
        }

        _bytes = bytes;
    }

    public static bool TryCreate(Span<byte> bytes, out IcmpHeader header)
    {
        if (bytes.Length < Length)
        {
            header = default;
            return false;
        }

        header = new IcmpHeader(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    public Span<byte> Payload => _bytes[Length..];

    public byte Type
    {
        get => _bytes[0];
        set => _bytes[0] = value;
    }

    public byte Code
    {
        get => _bytes[1];
        set => _bytes[1] = value;
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    public ushort Identifier
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    public ushort Sequence
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }
}
