using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>View of a TCP header (RFC 9293 section 3.1).</summary>
public readonly ref struct TcpHeader
{
    /// <summary>Header without options (data offset 5).</summary>
    public const int MinLength = 20;
    /// <summary>Header with the most options the data offset allows (15).</summary>
    public const int MaxLength = 60;

    private readonly Span<byte> _bytes;

    /// <summary>Wraps <paramref name="bytes"/> for reading or writing; only checks that 20 bytes are there.</summary>
    public TcpHeader(Span<byte> bytes)
    {
        if (bytes.Length < MinLength)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, MinLength, "A TCP header");
        }

        _bytes = bytes;
    }

    /// <summary>Succeeds when the data offset is at least 5 and the whole header is inside the span.</summary>
    public static bool TryCreate(Span<byte> bytes, out TcpHeader header)
    {
        header = default;
        if (bytes.Length < MinLength)
        {
            return false;
        }

        int length = (bytes[12] >> 4) * 4;
        if (length < MinLength || length > bytes.Length)
        {
            return false;
        }

        header = new TcpHeader(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    public Span<byte> Options => _bytes[MinLength..HeaderLength];

    /// <summary>Everything after <see cref="HeaderLength"/> in the span.</summary>
    public Span<byte> Payload => _bytes[HeaderLength..];

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

    public uint SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[4..], value);
    }

    public uint AcknowledgmentNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[8..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[8..], value);
    }

    /// <summary>Header length in 32-bit words (5..15).</summary>
    public byte DataOffset
    {
        get => (byte)(_bytes[12] >> 4);
        set => _bytes[12] = (byte)((_bytes[12] & 0x0F) | (value << 4));
    }

    /// <summary>Header length in bytes (<see cref="DataOffset"/> * 4).</summary>
    public int HeaderLength => (_bytes[12] >> 4) * 4;

    public TcpFlags Flags
    {
        get => (TcpFlags)_bytes[13];
        set => _bytes[13] = (byte)value;
    }

    public ushort Window
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[14..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[14..], value);
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[16..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[16..], value);
    }

    public ushort UrgentPointer
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[18..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[18..], value);
    }
}
