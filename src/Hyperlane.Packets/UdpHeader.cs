using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>View of a UDP header (RFC 768).</summary>
public readonly ref struct UdpHeader
{
    public const int Length = 8;

    private readonly Span<byte> _bytes;

    public UdpHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "A UDP header");
        }

        _bytes = bytes;
    }

    public static bool TryCreate(Span<byte> bytes, out UdpHeader header)
    {
        if (bytes.Length < Length)
        {
            header = default;
            return false;
        }

        header = new UdpHeader(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    /// <summary>Everything after the 8-byte header in the span.</summary>
    public Span<byte> Payload => _bytes[Length..];

    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    /// <summary>The UDP "Length" field: header plus data, in bytes.</summary>
    public ushort DatagramLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>Checksum; 0 means "none" over IPv4.</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }
}
