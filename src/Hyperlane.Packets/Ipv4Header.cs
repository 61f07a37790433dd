using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// View of an IPv4 header (RFC 791 section 3.1, DSCP/ECN per RFC 2474/3168). Addresses are host-order
/// <see cref="uint"/> values (192.168.0.1 is 0xC0A80001); see <see cref="Ipv4Address"/> for text.
/// </summary>
public readonly ref struct Ipv4Header
{
    /// <summary>Header without options (IHL 5).</summary>
    public const int MinLength = 20;
    /// <summary>Header with the most options IHL allows (IHL 15).</summary>
    public const int MaxLength = 60;

    private const ushort DontFragmentBit = 0x4000;
    private const ushort MoreFragmentsBit = 0x2000;

    private readonly Span<byte> _bytes;

    /// <summary>
    /// Wraps <paramref name="bytes"/> for reading or writing; only checks that 20 bytes are there
    /// (use <see cref="TryCreate"/> on received data).
    /// </summary>
    public Ipv4Header(Span<byte> bytes)
    {
        if (bytes.Length < MinLength)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, MinLength, "An IPv4 header");
        }

        _bytes = bytes;
    }

    /// <summary>Succeeds when the version is 4, IHL is at least 5 and the whole header is inside the span.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv4Header header)
    {
        header = default;
        if (bytes.Length < MinLength || (bytes[0] >> 4) != 4)
        {
            return false;
        }

        int length = (bytes[0] & 0xF) * 4;
        if (length < MinLength || length > bytes.Length)
        {
            return false;
        }

        header = new Ipv4Header(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    /// <summary>Options, between byte 20 and <see cref="HeaderLength"/>.</summary>
    public Span<byte> Options => _bytes[MinLength..HeaderLength];

    /// <summary>Bytes after the header up to <see cref="TotalLength"/>, clipped to the span (Ethernet padding excluded).</summary>
    public Span<byte> Payload
    {
        get
        {
            int start = HeaderLength;
            int end = Math.Min(TotalLength, _bytes.Length);
            return end > start ? _bytes[start..end] : _bytes[start..start];
        }
    }

    public byte Version
    {
        get => (byte)(_bytes[0] >> 4);
        set => _bytes[0] = (byte)((_bytes[0] & 0x0F) | (value << 4));
    }

    /// <summary>Internet header length in 32-bit words (5..15).</summary>
    public byte Ihl
    {
        get => (byte)(_bytes[0] & 0x0F);
        set => _bytes[0] = (byte)((_bytes[0] & 0xF0) | (value & 0x0F));
    }

    /// <summary>Header length in bytes (<see cref="Ihl"/> * 4).</summary>
    public int HeaderLength => (_bytes[0] & 0x0F) * 4;

    /// <summary>The whole type-of-service byte (DSCP and ECN).</summary>
    public byte Tos
    {
        get => _bytes[1];
        set => _bytes[1] = value;
    }

    /// <summary>Differentiated services code point, top six bits of <see cref="Tos"/>.</summary>
    public byte Dscp
    {
        get => (byte)(_bytes[1] >> 2);
        set => _bytes[1] = (byte)((_bytes[1] & 0x03) | (value << 2));
    }

    /// <summary>Explicit congestion notification, low two bits of <see cref="Tos"/>.</summary>
    public byte Ecn
    {
        get => (byte)(_bytes[1] & 0x03);
        set => _bytes[1] = (byte)((_bytes[1] & 0xFC) | (value & 0x03));
    }

    /// <summary>Header plus payload, in bytes.</summary>
    public ushort TotalLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    public ushort Identification
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[4..], value);
    }

    /// <summary>The raw 16 bits: flags (15..13) and fragment offset (12..0).</summary>
    public ushort FlagsAndFragmentOffset
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }

    public bool DontFragment
    {
        get => (FlagsAndFragmentOffset & DontFragmentBit) != 0;
        set => FlagsAndFragmentOffset = (ushort)(value ? FlagsAndFragmentOffset | DontFragmentBit : FlagsAndFragmentOffset & ~DontFragmentBit);
    }

    public bool MoreFragments
    {
        get => (FlagsAndFragmentOffset & MoreFragmentsBit) != 0;
        set => FlagsAndFragmentOffset = (ushort)(value ? FlagsAndFragmentOffset | MoreFragmentsBit : FlagsAndFragmentOffset & ~MoreFragmentsBit);
    }

    /// <summary>Fragment offset in 8-byte units (13 bits).</summary>
    public ushort FragmentOffset
    {
        get => (ushort)(FlagsAndFragmentOffset & 0x1FFF);
        set => FlagsAndFragmentOffset = (ushort)((FlagsAndFragmentOffset & 0xE000) | (value & 0x1FFF));
    }

    /// <summary>True for any fragment (more-fragments set or a nonzero offset).</summary>
    public bool IsFragment => (FlagsAndFragmentOffset & 0x3FFF) != 0;

    public byte Ttl
    {
        get => _bytes[8];
        set => _bytes[8] = value;
    }

    /// <summary>See <see cref="IpProtocols"/>.</summary>
    public byte Protocol
    {
        get => _bytes[9];
        set => _bytes[9] = value;
    }

    /// <summary>Header checksum as a 16-bit value (as read with network byte order).</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[10..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[10..], value);
    }

    public uint Source
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[12..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[12..], value);
    }

    public uint Destination
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[16..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[16..], value);
    }

    /// <summary>The checksum this header should carry (over <see cref="HeaderLength"/> bytes, checksum field as zero).</summary>
    public ushort ComputeChecksum() => Packets.Checksum.Ipv4Header(_bytes[..HeaderLength]);

    /// <summary>Writes <see cref="ComputeChecksum"/> into the checksum field.</summary>
    public void UpdateChecksum() => Checksum = ComputeChecksum();

    /// <summary>True when the one's-complement sum of the header, checksum included, is 0xFFFF.</summary>
    public bool IsChecksumValid => Packets.Checksum.Ones(_bytes[..HeaderLength]) == 0xFFFF;
}
