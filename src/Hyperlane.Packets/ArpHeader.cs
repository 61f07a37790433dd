using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// View of an ARP packet for Ethernet/IPv4 (RFC 826): 28 bytes, hardware length 6, protocol length 4.
/// IPv4 addresses are host-order <see cref="uint"/> values (192.168.0.1 is 0xC0A80001).
/// </summary>
public readonly ref struct ArpHeader
{
    public const int Length = 28;
    public const ushort HardwareTypeEthernet = 1;
    public const ushort Request = 1;
    public const ushort Reply = 2;

    private readonly Span<byte> _bytes;

    public ArpHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "An Ethernet/IPv4 ARP packet");
        }

        _bytes = bytes;
    }

    /// <summary>Succeeds when the span holds 28 bytes; does not check the type or length fields.</summary>
    public static bool TryCreate(Span<byte> bytes, out ArpHeader header)
    {
        if (bytes.Length < Length)
        {
            header = default;
            return false;
        }

        header = new ArpHeader(bytes);
        return true;
    }

    public Span<byte> Bytes => _bytes;

    /// <summary>True when the type and length fields say Ethernet/IPv4 (1, 0x0800, 6, 4).</summary>
    public bool IsEthernetIpv4 =>
        HardwareType == HardwareTypeEthernet && ProtocolType == EtherTypes.Ipv4 && HardwareLength == 6 && ProtocolLength == 4;

    public ushort HardwareType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes, value);
    }

    public ushort ProtocolType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[2..], value);
    }

    public byte HardwareLength
    {
        get => _bytes[4];
        set => _bytes[4] = value;
    }

    public byte ProtocolLength
    {
        get => _bytes[5];
        set => _bytes[5] = value;
    }

    /// <summary><see cref="Request"/> or <see cref="Reply"/>.</summary>
    public ushort Opcode
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[6..], value);
    }

    public MacAddress SenderMac
    {
        get => MacAddress.Read(_bytes[8..]);
        set => value.CopyTo(_bytes[8..]);
    }

    public uint SenderIp
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[14..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[14..], value);
    }

    public MacAddress TargetMac
    {
        get => MacAddress.Read(_bytes[18..]);
        set => value.CopyTo(_bytes[18..]);
    }

    public uint TargetIp
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[24..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[24..], value);
    }
}
