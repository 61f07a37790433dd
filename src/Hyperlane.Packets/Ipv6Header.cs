using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>View of the fixed IPv6 header (RFC 8200 section 3). Addresses are 16-byte spans into the packet.</summary>
public readonly ref struct Ipv6Header
{
    public const int Length = 40;
    public const int AddressLength = 16;

    private readonly Span<byte> _bytes;

    /// <summary>Wraps <paramref name="bytes"/> for reading or writing; only checks that 40 bytes are there.</summary>
    public Ipv6Header(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "An IPv6 header");
        }

        _bytes = bytes;
    }

    /// <summary>Succeeds when the span holds 40 bytes and the version is 6.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv6Header header)
    {
        if (bytes.Length < Length || (bytes[0] >> 4) != 6)
        {
            header = default;
            return false;
        }

        header = new Ipv6Header(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    /// <summary>Bytes after the fixed header up to <see cref="PayloadLength"/>, clipped to the span.</summary>
    public Span<byte> Payload => _bytes.Slice(Length, Math.Min(PayloadLength, _bytes.Length - Length));

    public byte Version
    {
        get => (byte)(_bytes[0] >> 4);
        set => _bytes[0] = (byte)((_bytes[0] & 0x0F) | (value << 4));
    }

    public byte TrafficClass
    {
        get => (byte)(BinaryPrimitives.ReadUInt32BigEndian(_bytes) >> 20);
        set => SetFirstWord((BinaryPrimitives.ReadUInt32BigEndian(_bytes) & 0xF00F_FFFF) | ((uint)value << 20));
    }

    /// <summary>Flow label, 20 bits (higher bits of the value are ignored on write).</summary>
    public uint FlowLabel
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes) & 0x000F_FFFF;
        set => SetFirstWord((BinaryPrimitives.ReadUInt32BigEndian(_bytes) & 0xFFF0_0000) | (value & 0x000F_FFFF));
    }

    /// <summary>Bytes after the fixed 40-byte header, extension headers included.</summary>
    public ushort PayloadLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>See <see cref="IpProtocols"/>.</summary>
    public byte NextHeader
    {
        get => _bytes[6];
        set => _bytes[6] = value;
    }

    public byte HopLimit
    {
        get => _bytes[7];
        set => _bytes[7] = value;
    }

    /// <summary>The 16 source address bytes, in place.</summary>
    public Span<byte> Source => _bytes.Slice(8, AddressLength);

    /// <summary>The 16 destination address bytes, in place.</summary>
    public Span<byte> Destination => _bytes.Slice(24, AddressLength);

    private void SetFirstWord(uint value) => BinaryPrimitives.WriteUInt32BigEndian(_bytes, value);
}
