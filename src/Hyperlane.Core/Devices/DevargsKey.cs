using System.Globalization;
using System.Text;

namespace Hyperlane.Core.Devices;

/// <summary>
/// One key a <see cref="DevargsSchema"/> accepts, with its type and limits. Immutable; built by the
/// schema's fluent methods. <see cref="ToString"/> gives a one-line usage for help output.
/// </summary>
public sealed class DevargsKey
{
    internal DevargsKey(string name, DevargsKeyKind kind)
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>The key, e.g. <c>size</c>.</summary>
    public string Name { get; }

    /// <summary>The type of value it takes.</summary>
    public DevargsKeyKind Kind { get; }

    /// <summary>Whether the key may be given more than once.</summary>
    public bool Repeatable => MaxCount > 1;

    /// <summary>How many times the key may be given (1 unless repeatable).</summary>
    public int MaxCount { get; init; } = 1;

    /// <summary>Smallest value of an <see cref="DevargsKeyKind.Int"/> key.</summary>
    public long Min { get; init; } = long.MinValue;

    /// <summary>Largest value of an <see cref="DevargsKeyKind.Int"/> key.</summary>
    public long Max { get; init; } = long.MaxValue;

    /// <summary>Default of an <see cref="DevargsKeyKind.Int"/> key, or null when it has none.</summary>
    public long? DefaultInt { get; init; }

    /// <summary>Default of a <see cref="DevargsKeyKind.Bool"/> key.</summary>
    public bool DefaultBool { get; init; }

    /// <summary>
    /// Default of a String, Enum or Mac key (a Mac default is in canonical form), or null when it has none.
    /// </summary>
    public string? DefaultString { get; init; }

    /// <summary>Whether a String or Parenthesized key accepts an empty value.</summary>
    public bool AllowEmpty { get; init; }

    /// <summary>Longest value of a String key, in UTF-16 characters.</summary>
    public int MaxLength { get; init; } = int.MaxValue;

    /// <summary>The words of an Enum key, or the words a Mac key accepts besides an address.</summary>
    public IReadOnlyList<string> Words { get; init; } = [];

    /// <summary>Why an <see cref="DevargsKeyKind.Unsupported"/> key is not implemented.</summary>
    public string? UnsupportedReason { get; init; }

    /// <summary>One-line usage, e.g. <c>size=&lt;integer 1..65535&gt; (default 64)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Name);
        switch (Kind)
        {
            case DevargsKeyKind.Int:
                sb.Append(CultureInfo.InvariantCulture, $"=<integer {Min}..{Max}>");
                if (DefaultInt is long d)
                {
                    sb.Append(CultureInfo.InvariantCulture, $" (default {d})");
                }

                break;
            case DevargsKeyKind.Bool:
                sb.Append("[=0|1]").Append(DefaultBool ? " (default 1)" : " (default 0)");
                break;
            case DevargsKeyKind.String:
                sb.Append(MaxLength == int.MaxValue
                    ? "=<string>"
                    : string.Create(CultureInfo.InvariantCulture, $"=<string of at most {MaxLength} characters>"));
                break;
            case DevargsKeyKind.Mac:
                sb.Append("=<02:00:00:00:00:01");
                foreach (string w in Words)
                {
                    sb.Append('|').Append(w);
                }

                sb.Append('>');
                break;
            case DevargsKeyKind.Enum:
                sb.Append("=<").AppendJoin('|', Words).Append('>');
                break;
            case DevargsKeyKind.Parenthesized:
                sb.Append("(...)");
                break;
            default:
                sb.Append(" (not supported: ").Append(UnsupportedReason).Append(')');
                return sb.ToString();
        }

        if ((Kind is DevargsKeyKind.String or DevargsKeyKind.Enum or DevargsKeyKind.Mac) && DefaultString is not null)
        {
            sb.Append(" (default ").Append(DefaultString).Append(')');
        }

        if (MaxCount == int.MaxValue)
        {
            sb.Append(" (repeatable)");
        }
        else if (MaxCount > 1)
        {
            sb.Append(CultureInfo.InvariantCulture, $" (up to {MaxCount} times)");
        }

        return sb.ToString();
    }
}
