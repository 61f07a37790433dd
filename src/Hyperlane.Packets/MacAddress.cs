using System.Buffers.Binary;

namespace Hyperlane.Packets;

/// <summary>
/// A 48-bit IEEE 802 MAC address (IEEE 802-2014 section 8.2). Stored as the six octets in
/// transmission order packed into the low 48 bits of a <see cref="ulong"/> (first octet most significant).
/// </summary>
public readonly struct MacAddress : IEquatable<MacAddress>
{
    public const int Length = 6;
    private const ulong Mask = 0xFFFF_FFFF_FFFF;
    private const string Expected = "expected six hex octets like 02:00:00:00:00:01";

    private readonly ulong _value;

    public MacAddress(byte b0, byte b1, byte b2, byte b3, byte b4, byte b5) =>
        _value = ((ulong)b0 << 40) | ((ulong)b1 << 32) | ((ulong)b2 << 24) | ((ulong)b3 << 16) | ((ulong)b4 << 8) | b5;

    /// <summary>Creates an address from exactly six octets.</summary>
    public MacAddress(ReadOnlySpan<byte> octets)
    {
        if (octets.Length != Length)
        {
            ThrowHelper.Argument(nameof(octets), $"A MAC address is 6 octets, got {octets.Length}.");
        }

        _value = Load(octets);
    }

    private MacAddress(ulong value) => _value = value;

    /// <summary>FF:FF:FF:FF:FF:FF.</summary>
    public static MacAddress Broadcast => new(Mask);

    /// <summary>00:00:00:00:00:00.</summary>
    public static MacAddress Zero => default;

    public bool IsBroadcast => _value == Mask;

    /// <summary>The individual/group bit (bit 0 of the first octet) is set. Broadcast is multicast too.</summary>
    public bool IsMulticast => (_value & (1UL << 40)) != 0;

    public bool IsUnicast => !IsMulticast;

    public bool IsZero => _value == 0;

    /// <summary>The universal/local bit (bit 1 of the first octet) is set.</summary>
    public bool IsLocallyAdministered => (_value & (2UL << 40)) != 0;

    /// <summary>Builds an address from the low 48 bits of <paramref name="value"/> (first octet in bits 47..40).</summary>
    public static MacAddress FromUInt64(ulong value)
    {
        if (value > Mask)
        {
            ThrowHelper.OutOfRange(nameof(value), (long)value, "A MAC address has only 48 bits.");
        }

        return new MacAddress(value);
    }

    /// <summary>The address as a 48-bit number, first octet in bits 47..40.</summary>
    public ulong ToUInt64() => _value;

    /// <summary>Reads the first six bytes of <paramref name="source"/>.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Length)
        {
            ThrowHelper.TooShort(nameof(source), source.Length, Length, "A MAC address");
        }

        return new MacAddress(Load(source));
    }

    /// <summary>Writes the six octets to the start of <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            ThrowHelper.TooShort(nameof(destination), destination.Length, Length, "A MAC address");
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(_value >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)_value);
    }

    /// <summary>Parses <c>02:00:00:00:00:01</c> or <c>02-00-00-00-00-01</c> (hex digits in any case).</summary>
    /// <exception cref="FormatException">The text is not in one of those two forms; the message says why.</exception>
    public static MacAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? error = ParseCore(text, explain: true, out MacAddress address);
        if (error is not null)
        {
            throw new FormatException($"'{text}' is not a MAC address ({error}; {Expected}).");
        }

        return address;
    }

    /// <summary>Parses like <see cref="Parse(string)"/> without throwing or allocating.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out MacAddress address) =>
        ParseCore(text, explain: false, out address) is null;

    /// <summary>Formats as uppercase colon-separated octets (17 characters) without allocating.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        const int TextLength = 17;
        if (destination.Length < TextLength)
        {
            charsWritten = 0;
            return false;
        }

        const string Hex = "0123456789ABCDEF";
        for (int i = 0; i < Length; i++)
        {
            int octet = (int)(_value >> (40 - (8 * i))) & 0xFF;
            int at = i * 3;
            destination[at] = Hex[octet >> 4];
            destination[at + 1] = Hex[octet & 0xF];
            if (i < Length - 1)
            {
                destination[at + 2] = ':';
            }
        }

        charsWritten = TextLength;
        return true;
    }

    /// <summary>Uppercase colon form, like DPDK's <c>RTE_ETHER_ADDR_PRT_FMT</c>: <c>02:00:00:00:00:01</c>.</summary>
    public override string ToString()
    {
        Span<char> text = stackalloc char[17];
        TryFormat(text, out int written);
        return new string(text[..written]);
    }

    public bool Equals(MacAddress other) => _value == other._value;

    public override bool Equals(object? obj) => obj is MacAddress other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public static bool operator ==(MacAddress left, MacAddress right) => left._value == right._value;

    public static bool operator !=(MacAddress left, MacAddress right) => left._value != right._value;

    private static ulong Load(ReadOnlySpan<byte> source) =>
        ((ulong)BinaryPrimitives.ReadUInt32BigEndian(source) << 16) | BinaryPrimitives.ReadUInt16BigEndian(source[4..]);

    /// <summary>Returns null on success; otherwise why the text was rejected ("" when <paramref name="explain"/> is false).</summary>
    private static string? ParseCore(ReadOnlySpan<char> text, bool explain, out MacAddress address)
    {
        address = default;
        if (text.IsEmpty)
        {
            return explain ? "it is empty" : string.Empty;
        }

        int colon = text.IndexOf(':');
        int dash = text.IndexOf('-');
        if (colon < 0 && dash < 0)
        {
            return explain ? "no ':' or '-' separators" : string.Empty;
        }

        if (colon >= 0 && dash >= 0)
        {
            return explain ? "it mixes ':' and '-' separators" : string.Empty;
        }

        char separator = colon >= 0 ? ':' : '-';
        int groups = text.Count(separator) + 1;
        if (groups != Length)
        {
            return explain ? $"it has {groups} groups" : string.Empty;
        }

        ulong value = 0;
        ReadOnlySpan<char> rest = text;
        for (int i = 0; i < Length; i++)
        {
            int end = rest.IndexOf(separator);
            ReadOnlySpan<char> group = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (group.Length != 2 || !char.IsAsciiHexDigit(group[0]) || !char.IsAsciiHexDigit(group[1]))
            {
                return explain ? $"octet {i + 1} '{group}' is not two hex digits" : string.Empty;
            }

            value = (value << 8) | (uint)((HexValue(group[0]) << 4) | HexValue(group[1]));
        }

        address = new MacAddress(value);
        return null;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
