using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// View of an Ethernet II header (IEEE 802.3-2018 clause 3.1.1 / DIX): destination MAC,
/// source MAC, EtherType, all in network order. Reads and writes go straight to the span.
/// </summary>
public readonly ref struct EthernetHeader
{
    public const int Length = 14;

    private readonly Span<byte> _bytes;

    /// <summary>Wraps <paramref name="bytes"/> (header at offset 0); throws if shorter than <see cref="Length"/>.</summary>
    public EthernetHeader(Span<byte> bytes)
    {
        if (bytes.Length < Length)
        {
            ThrowHelper.TooShort(nameof(bytes), bytes.Length, Length, "An Ethernet header");
        }

        _bytes = bytes;
    }

    public static bool TryCreate(Span<byte> bytes, out EthernetHeader header)
    {
        if (bytes.Length < Length)
        {
            header = default;
            return false;
        }

        header = new EthernetHeader(bytes);
        return true;
    }

    /// <summary>The span this view was created over (header first).</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>Everything after the 14-byte header.</summary>
    public Span<byte> Payload => _bytes[Length..];

    public MacAddress Destination
    {
        get => MacAddress.Read(_bytes);
        set => value.CopyTo(_bytes);
    }

    public MacAddress Source
    {
        get => MacAddress.Read(_bytes[6..]);
        set => value.CopyTo(_bytes[6..]);
    }

    /// <summary>See <see cref="EtherTypes"/>.</summary>
    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[12..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[12..], value);
    }
}
