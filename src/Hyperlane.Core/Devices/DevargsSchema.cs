using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Hyperlane.Core.Devices;

/// <summary>
/// The keys one driver accepts, with their types, built fluently:
/// <code>
/// new DevargsSchema("net_null")
///     .Int("size", min: 1, max: 65535, @default: 64)
///     .Bool("copy")
///     .String("iface", repeatable: true)
///     .Mac("mac", allowedWords: ["fixed"])
///     .Enum("mode", "a", "b")
///     .Parenthesized("dev", repeatable: true, max: 8)
///     .Unsupported("nodeaction", "use rx= and tx= instead");
/// </code>
/// <see cref="Validate(Devargs)"/> checks a parsed string against it and returns typed
/// <see cref="DevargsValues"/>, or throws <see cref="DevargsException"/>. Keys are case-sensitive.
/// Build a schema once (it is not thread-safe while being built); validating is read-only.
/// </summary>
public sealed class DevargsSchema
{
    private readonly Dictionary<string, DevargsKey> keys = new(StringComparer.Ordinal);
    private readonly List<DevargsKey> order = [];

    /// <summary>Creates an empty schema for a driver, e.g. <c>net_null</c> (used in messages).</summary>
    public DevargsSchema(string driverName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(driverName);
        DriverName = driverName;
    }

    /// <summary>The driver name, e.g. <c>net_null</c>.</summary>
    public string DriverName { get; }

    /// <summary>The keys in declaration order (including unsupported ones).</summary>
    public IReadOnlyList<DevargsKey> Keys => order.AsReadOnly();

    /// <summary>Looks a key up by name.</summary>
    public bool TryGetKey(string name, [NotNullWhen(true)] out DevargsKey? key) => keys.TryGetValue(name, out key);

    /// <summary>
    /// An integer key: decimal with optional sign, or <c>0x</c>/<c>0X</c> hexadecimal; must lie in
    /// <paramref name="min"/>..<paramref name="max"/>. Only the <c>key=value</c> form is valid.
    /// </summary>
    public DevargsSchema Int(string key, long min = long.MinValue, long max = long.MaxValue, long? @default = null, bool repeatable = false)
    {
        if (min > max)
        {
            throw new ArgumentOutOfRangeException(nameof(min), min, $"min is greater than max ({max.ToString(CultureInfo.InvariantCulture)})");
        }

        if (@default is long d && (d < min || d > max))
        {
            throw new ArgumentOutOfRangeException(nameof(@default), d, "default is outside min..max");
        }

        return Add(new DevargsKey(key, DevargsKeyKind.Int)
        {
            Min = min,
            Max = max,
            DefaultInt = @default,
            MaxCount = repeatable ? int.MaxValue : 1,
        });
    }

    /// <summary>
    /// A boolean key: <c>key=0</c>, <c>key=1</c>, <c>key=false</c>, <c>key=true</c>, or the bare
    /// flag <c>key</c> (true). Not repeatable.
    /// </summary>
    public DevargsSchema Bool(string key, bool @default = false) =>
        Add(new DevargsKey(key, DevargsKeyKind.Bool) { DefaultBool = @default });

    /// <summary>
    /// A text key (<c>key=value</c> form only; whitespace in the value is kept). Empty values are
    /// rejected unless <paramref name="allowEmpty"/>; values longer than <paramref name="maxLength"/> are rejected.
    /// </summary>
    public DevargsSchema String(string key, bool repeatable = false, bool allowEmpty = false, int maxLength = int.MaxValue, string? @default = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        return Add(new DevargsKey(key, DevargsKeyKind.String)
        {
            AllowEmpty = allowEmpty,
            MaxLength = maxLength,
            DefaultString = @default,
            MaxCount = repeatable ? int.MaxValue : 1,
        });
    }

    /// <summary>
    /// A MAC address key: six two-digit hex octets separated all by ':' or all by '-' (any case),
    /// or one of <paramref name="allowedWords"/> (exact match, e.g. <c>fixed</c> for net_tap).
    /// <see cref="DevargsValues.GetMac"/> returns the canonical form <c>02:00:00:00:00:01</c> or the word.
    /// </summary>
    public DevargsSchema Mac(string key, IReadOnlyList<string>? allowedWords = null, bool repeatable = false, string? @default = null)
    {
        string[] words = allowedWords is null ? [] : [.. allowedWords];
        foreach (string w in words)
        {
            ArgumentException.ThrowIfNullOrEmpty(w, nameof(allowedWords));
        }

        string? canonicalDefault = null;
        if (@default is not null)
        {
            canonicalDefault = Array.IndexOf(words, @default) >= 0 ? @default
                : TryParseMac(@default, out byte[]? octets) ? FormatMac(octets)
                : throw new ArgumentException("default is neither a MAC address nor an allowed word", nameof(@default));
        }

        return Add(new DevargsKey(key, DevargsKeyKind.Mac)
        {
            Words = Array.AsReadOnly(words),
            DefaultString = canonicalDefault,
            MaxCount = repeatable ? int.MaxValue : 1,
        });
    }

    /// <summary>A key whose value is one of <paramref name="words"/> (exact, case-sensitive match).</summary>
    public DevargsSchema Enum(string key, params string[] words) => Enum(key, (IReadOnlyList<string>)words);

    /// <summary>A key whose value is one of <paramref name="words"/>, with a default and optionally repeatable.</summary>
    public DevargsSchema Enum(string key, IReadOnlyList<string> words, string? @default = null, bool repeatable = false)
    {
        ArgumentNullException.ThrowIfNull(words);
        string[] list = [.. words];
        if (list.Length == 0)
        {
            throw new ArgumentException("an enum key needs at least one word", nameof(words));
        }

        foreach (string w in list)
        {
            ArgumentException.ThrowIfNullOrEmpty(w, nameof(words));
        }

        if (@default is not null && Array.IndexOf(list, @default) < 0)
        {
            throw new ArgumentException("default is not one of the words", nameof(@default));
        }

        return Add(new DevargsKey(key, DevargsKeyKind.Enum)
        {
            Words = Array.AsReadOnly(list),
            DefaultString = @default,
            MaxCount = repeatable ? int.MaxValue : 1,
        });
    }

    /// <summary>
    /// A key valid only as <c>key(value)</c>, e.g. failsafe's <c>dev(...)</c>. When
    /// <paramref name="repeatable"/>, at most <paramref name="max"/> occurrences are accepted.
    /// Empty content <c>key()</c> is rejected unless <paramref name="allowEmpty"/>.
    /// </summary>
    public DevargsSchema Parenthesized(string key, bool repeatable = false, int max = int.MaxValue, bool allowEmpty = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        return Add(new DevargsKey(key, DevargsKeyKind.Parenthesized)
        {
            AllowEmpty = allowEmpty,
            MaxCount = repeatable ? max : 1,
        });
    }

    /// <summary>
    /// A DPDK key Hyperlane knows but does not implement. Giving it, in any form, is an error that
    /// says <paramref name="reason"/>. It is not listed among the valid keys.
    /// </summary>
    public DevargsSchema Unsupported(string key, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return Add(new DevargsKey(key, DevargsKeyKind.Unsupported) { UnsupportedReason = reason });
    }

    /// <summary>Parses <paramref name="devargs"/> and validates it; throws <see cref="DevargsException"/>.</summary>
    public DevargsValues Validate(string devargs) => Validate(Devargs.Parse(devargs));

    /// <summary>
    /// Checks every item against the schema and returns typed values; throws
    /// <see cref="DevargsException"/> at the first item that does not fit.
    /// </summary>
    public DevargsValues Validate(Devargs devargs)
    {
        ArgumentNullException.ThrowIfNull(devargs);
        string device = devargs.Name;
        var slots = new Dictionary<string, DevargsSlot>(StringComparer.Ordinal);
        foreach (DevargsItem item in devargs.Items)
        {
            if (!keys.TryGetValue(item.Key, out DevargsKey? key))
            {
                throw Fail(device, item, $"unknown key '{item.Key}' ({ValidKeysText()})");
            }

            if (key.Kind == DevargsKeyKind.Unsupported)
            {
                throw Fail(device, item, $"key '{item.Key}' of {DriverName} is not supported by Hyperlane: {key.UnsupportedReason}");
            }

            CheckForm(device, key, item);

            if (!slots.TryGetValue(item.Key, out DevargsSlot? slot))
            {
                slot = new DevargsSlot(key);
                slots.Add(item.Key, slot);
            }

            if (slot.Count >= key.MaxCount)
            {
                throw key.MaxCount == 1
                    ? Fail(device, item, string.Create(CultureInfo.InvariantCulture,
                        $"key '{item.Key}' is given more than once (at positions {slot.Positions[0]} and {item.Position})"))
                    : Fail(device, item, string.Create(CultureInfo.InvariantCulture,
                        $"key '{item.Key}' is given more than {key.MaxCount} times"));
            }

            Accept(device, key, item, slot);
        }

        return new DevargsValues(this, devargs, slots);
    }

    /// <summary>Parses a MAC address: six two-digit hex octets, all separated by ':' or all by '-'.</summary>
    internal static bool TryParseMac(ReadOnlySpan<char> text, [NotNullWhen(true)] out byte[]? octets)
    {
        octets = null;
        if (text.Length != 17)
        {
            return false;
        }

        char separator = text[2];
        if (separator is not (':' or '-'))
        {
            return false;
        }

        var result = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            int at = i * 3;
            if (i > 0 && text[at - 1] != separator)
            {
                return false;
            }

            int hi = HexValue(text[at]);
            int lo = HexValue(text[at + 1]);
            if (hi < 0 || lo < 0)
            {
                return false;
            }

            result[i] = (byte)((hi << 4) | lo);
        }

        octets = result;
        return true;
    }

    /// <summary>Canonical MAC form: uppercase hex, ':' separated.</summary>
    internal static string FormatMac(ReadOnlySpan<byte> octets) =>
        string.Create(CultureInfo.InvariantCulture, $"{octets[0]:X2}:{octets[1]:X2}:{octets[2]:X2}:{octets[3]:X2}:{octets[4]:X2}:{octets[5]:X2}");

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static DevargsException Fail(string device, DevargsItem item, string detail) =>
        new(device, item.Key, item.Position >= 0 ? item.Position : null, detail);

    private static string ValueText(DevargsItem item) => DevargsSyntax.Quote(item.Value);

    private static void CheckForm(string device, DevargsKey key, DevargsItem item)
    {
        string k = item.Key;
        if (key.Kind == DevargsKeyKind.Parenthesized)
        {
            if (item.Form != DevargsItemForm.Parenthesized)
            {
                string given = item.Form == DevargsItemForm.KeyValue ? $"not {k}=..." : "not as a bare flag";
                throw Fail(device, item, $"key '{k}' must be written as {k}(...), {given}");
            }

            return;
        }

        if (key.Kind == DevargsKeyKind.Bool)
        {
            if (item.Form == DevargsItemForm.Parenthesized)
            {
                throw Fail(device, item, $"key '{k}' must be written as {k}=<0|1> or {k}, not {k}(...)");
            }

            return;
        }

        if (item.Form == DevargsItemForm.Parenthesized)
        {
            throw Fail(device, item, $"key '{k}' must be written as {k}=<value>, not {k}(...)");
        }

        if (item.Form == DevargsItemForm.Flag)
        {
            throw Fail(device, item, $"key '{k}' requires a value ({k}=<value>)");
        }
    }

    private static void Accept(string device, DevargsKey key, DevargsItem item, DevargsSlot slot)
    {
        string k = item.Key;
        string v = item.Value;
        switch (key.Kind)
        {
            case DevargsKeyKind.Int:
            {
                long n = ParseInt(device, key, item);
                slot.Ints.Add(n);
                slot.Texts.Add(n.ToString(CultureInfo.InvariantCulture));
                break;
            }

            case DevargsKeyKind.Bool:
            {
                bool b = item.Form == DevargsItemForm.Flag || v switch
                {
                    "1" or "true" => true,
                    "0" or "false" => false,
                    _ => throw Fail(device, item, $"key '{k}' = {ValueText(item)} is not a boolean (expected 0, 1, true or false)"),
                };
                slot.Bool = b;
                slot.Texts.Add(b ? "1" : "0");
                break;
            }

            case DevargsKeyKind.String:
                if (v.Length == 0 && !key.AllowEmpty)
                {
                    throw Fail(device, item, $"key '{k}' = '' must not be empty");
                }

                if (v.Length > key.MaxLength)
                {
                    throw Fail(device, item, string.Create(CultureInfo.InvariantCulture,
                        $"key '{k}' = {ValueText(item)} is longer than {key.MaxLength} characters"));
                }

                slot.Texts.Add(v);
                break;

            case DevargsKeyKind.Mac:
                if (Contains(key.Words, v))
                {
                    slot.Texts.Add(v);
                    slot.Macs.Add(null);
                }
                else if (TryParseMac(v, out byte[]? octets))
                {
                    slot.Texts.Add(FormatMac(octets));
                    slot.Macs.Add(octets);
                }
                else
                {
                    string words = key.Words.Count == 0 ? string.Empty : " or one of: " + string.Join(", ", key.Words);
                    throw Fail(device, item, $"key '{k}' = {ValueText(item)} is not a MAC address (expected 02:00:00:00:00:01{words})");
                }

                break;

            case DevargsKeyKind.Enum:
                if (!Contains(key.Words, v))
                {
                    throw Fail(device, item, $"key '{k}' = {ValueText(item)} is not one of: {string.Join(", ", key.Words)}");
                }

                slot.Texts.Add(v);
                break;

            case DevargsKeyKind.Parenthesized:
                if (v.Length == 0 && !key.AllowEmpty)
                {
                    throw Fail(device, item, $"key '{k}' = '' must not be empty");
                }

                slot.Texts.Add(v);
                break;

            default:
                throw new InvalidOperationException("unreachable devargs key kind");
        }

        slot.Positions.Add(item.Position);
    }

    private static long ParseInt(string device, DevargsKey key, DevargsItem item)
    {
        ReadOnlySpan<char> v = item.Value;
        bool parsed;
        bool digitsOnly;
        long n = 0;
        if (v.Length > 2 && v[0] == '0' && v[1] is 'x' or 'X')
        {
            ReadOnlySpan<char> hex = v[2..];
            digitsOnly = IsAll(hex, hexDigits: true);
            parsed = false;
            if (digitsOnly
                && ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong u)
                && u <= long.MaxValue)
            {
                n = (long)u;
                parsed = true;
            }
        }
        else
        {
            ReadOnlySpan<char> digits = v.Length > 0 && v[0] is '+' or '-' ? v[1..] : v;
            digitsOnly = IsAll(digits, hexDigits: false);
            parsed = digitsOnly && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n);
        }

        string range = string.Create(CultureInfo.InvariantCulture, $"{key.Min}..{key.Max}");
        if (!parsed)
        {
            throw digitsOnly
                ? Fail(device, item, $"key '{item.Key}' = {ValueText(item)} is out of range {range}")
                : Fail(device, item, $"key '{item.Key}' = {ValueText(item)} is not an integer");
        }

        if (n < key.Min || n > key.Max)
        {
            throw Fail(device, item, $"key '{item.Key}' = {ValueText(item)} is out of range {range}");
        }

        return n;
    }

    private static bool IsAll(ReadOnlySpan<char> text, bool hexDigits)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!(hexDigits ? char.IsAsciiHexDigit(c) : char.IsAsciiDigit(c)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Contains(IReadOnlyList<string> words, string value)
    {
        foreach (string w in words)
        {
            if (string.Equals(w, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private string ValidKeysText()
    {
        var names = new List<string>(order.Count);
        foreach (DevargsKey key in order)
        {
            if (key.Kind != DevargsKeyKind.Unsupported)
            {
                names.Add(key.Name);
            }
        }

        if (names.Count == 0)
        {
            return DriverName + " takes no keys";
        }

        names.Sort(StringComparer.Ordinal);
        return new StringBuilder("valid keys: ").AppendJoin(", ", names).ToString();
    }

    private DevargsSchema Add(DevargsKey key)
    {
        if (!DevargsSyntax.IsValidKey(key.Name))
        {
            throw new ArgumentException(
                $"devargs key {DevargsSyntax.Quote(key.Name)} is invalid: keys are non-empty and may contain only {DevargsSyntax.KeyCharsText}",
                nameof(key));
        }

        if (!keys.TryAdd(key.Name, key))
        {
            throw new ArgumentException($"key '{key.Name}' is declared twice in the {DriverName} schema", nameof(key));
        }

        order.Add(key);
        return this;
    }
}
