using System.Globalization;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>Validation of the values vdev_netvsc reads from sysfs. Pure functions; nothing here touches a file.</summary>
public static class SysfsFormats
{
    /// <summary>ARPHRD_ETHER (linux/if_arp.h): the only netdevice type vdev_netvsc accepts.</summary>
    public const int ArphrdEther = 1;

    /// <summary>
    /// Whether <paramref name="text"/> is a VMBus class or instance GUID as the kernel prints it in
    /// class_id and device_id: <c>{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}</c>, hex digits in either case.
    /// </summary>
    public static bool IsBracedGuid(string? text)
    {
        if (text is null || text.Length != 38 || text[0] != '{' || text[37] != '}')
        {
            return false;
        }

        for (int i = 1; i < 37; i++)
        {
            char c = text[i];
            bool dash = i is 9 or 14 or 19 or 24;
            if (dash ? c != '-' : !char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses the <c>type</c> attribute (a decimal ARPHRD_* value, 0..65535).</summary>
    public static bool TryParseArphrdType(string? text, out int type)
    {
        type = 0;
        return text is { Length: > 0 and <= 5 }
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out type)
            && type <= ushort.MaxValue;
    }

    /// <summary>
    /// Whether <paramref name="text"/> is a PCI address as sysfs names devices: <c>DDDD:BB:SS.F</c>, domain 4
    /// to 8 hex digits (Hyper-V's virtual PCI domains are large), bus 2 hex digits, slot 2 hex digits up to
    /// 1f, function 0 to 7.
    /// </summary>
    public static bool IsPciAddress(string? text)
    {
        if (text is null)
        {
            return false;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon is < 4 or > 8 || text.Length != colon + 8)
        {
            return false;
        }

        // DDDD : BB : SS . F
        ReadOnlySpan<char> s = text.AsSpan();
        return AllHex(s[..colon])
            && AllHex(s.Slice(colon + 1, 2))
            && s[colon + 3] == ':'
            && AllHex(s.Slice(colon + 4, 2))
            && int.Parse(s.Slice(colon + 4, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) <= 0x1f
            && s[colon + 6] == '.'
            && s[colon + 7] is >= '0' and <= '7';
    }

    /// <summary>Whether <paramref name="name"/> can be a Linux interface name (1 to 15 bytes, no '/', no white space, not "." or "..").</summary>
    public static bool IsInterfaceName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name is "." or ".." || System.Text.Encoding.UTF8.GetByteCount(name) > 15)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return s.Length > 0;
    }
}
