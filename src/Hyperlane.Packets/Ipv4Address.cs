namespace Hyperlane.Packets;

/// <summary>
/// Helpers for IPv4 addresses held as host-order <see cref="uint"/> values (192.168.0.1 is 0xC0A80001),
/// the form the header views use. No <c>System.Net.IPAddress</c>, no allocation except <see cref="Format"/>.
/// </summary>
public static class Ipv4Address
{
    /// <summary>The longest dotted-quad text, "255.255.255.255".</summary>
    public const int MaxTextLength = 15;

    /// <summary>a.b.c.d as a host-order value.</summary>
    public static uint Make(byte a, byte b, byte c, byte d) => ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    /// <summary>Parses dotted-quad text ("198.18.0.1"): four decimal parts 0..255, one to three digits each.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        uint value = 0;
        int parts = 0;
        int i = 0;
        while (true)
        {
            int digits = 0;
            uint part = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && digits < 3)
            {
                part = (part * 10) + (uint)(text[i] - '0');
                digits++;
                i++;
            }

            if (digits == 0 || part > 255)
            {
                return false;
            }

            value = (value << 8) | part;
            parts++;
            if (parts == 4)
            {
                break;
            }

            if (i >= text.Length || text[i] != '.')
            {
                return false;
            }

            i++;
        }

        if (i != text.Length)
        {
            return false;
        }

        address = value;
        return true;
    }

    /// <exception cref="FormatException">The text is not a dotted-quad IPv4 address.</exception>
    public static uint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out uint address))
        {
            throw new FormatException($"'{text}' is not an IPv4 address (expected four decimal parts 0..255 like 198.18.0.1).");
        }

        return address;
    }

    /// <summary>Writes dotted-quad text without allocating.</summary>
    public static bool TryFormat(uint address, Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            uint part = (address >> shift) & 0xFF;
            int digits = part >= 100 ? 3 : part >= 10 ? 2 : 1;
            int needed = digits + (shift > 0 ? 1 : 0);
            if (destination.Length - charsWritten < needed)
            {
                charsWritten = 0;
                return false;
            }

            for (int d = digits - 1; d >= 0; d--)
            {
                destination[charsWritten + d] = (char)('0' + (part % 10));
                part /= 10;
            }

            charsWritten += digits;
            if (shift > 0)
            {
                destination[charsWritten++] = '.';
            }
        }

        return true;
    }

    /// <summary>Dotted-quad text, e.g. "198.18.0.1".</summary>
    public static string Format(uint address)
    {
        Span<char> text = stackalloc char[MaxTextLength];
        TryFormat(address, text, out int written);
        return new string(text[..written]);
    }
}
