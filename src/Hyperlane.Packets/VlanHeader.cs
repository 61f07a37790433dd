using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// View of the four bytes that follow an 802.1Q/802.1ad TPID (IEEE 802.1Q-2018 section 9.6):
/// the tag control information (PCP 3 bits, DEI 1 bit, VID 12 bits) and the inner EtherType.
/// </summary>
public readonly ref struct VlanHeader
{
    public const int Length = 4;

    private readonly Span<byte> _bytes;

    public VlanHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "An 802.1Q tag");
        }

        _bytes = bytes;
    }

    public static bool TryCreate(Span<byte> bytes, out VlanHeader header)
    {
        if (bytes.Length < Length)
        {
            header = default;
            return false;
        }

        header = new VlanHeader(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    public Span<byte> Payload => _bytes[Length..];

    /// <summary>Tag control information: PCP(15..13) DEI(12) VID(11..0).</summary>
    public ushort Tci
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    /// <summary>Priority code point, 0..7.</summary>
    public byte Pcp
    {
        get => (byte)(_bytes[0] >> 5);
        set => _bytes[0] = (byte)((_bytes[0] & 0x1F) | ((value & 0x7) << 5));
    }

    /// <summary>Drop eligible indicator.</summary>
    public bool Dei
    {
        get => (_bytes[0] & 0x10) != 0;
        set => _bytes[0] = (byte)(value ? _bytes[0] | 0x10 : _bytes[0] & ~0x10);
    }

    /// <summary>VLAN identifier, 0..4095 (higher bits of the value are ignored on write).</summary>
    public ushort VlanId
    {
        get => (ushort)(Tci & 0x0FFF);
        set => Tci = (ushort)((Tci & 0xF000) | (value & 0x0FFF));
    }

    public ushort InnerEtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }
}
