using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Hyperlane.Core.Devices;

/// <summary>
/// A parsed devargs string in DPDK syntax (what <c>--vdev</c> takes):
/// <c>name,key=value,key(value),flag</c>. Immutable.
/// </summary>
/// <remarks>
/// <para>Grammar: whitespace around the whole string is trimmed. The string is split at commas that
/// are outside parentheses. The first part is the device name (characters A-Z a-z 0-9 _ - . :).
/// Every other part is an item: <c>key=value</c> when an '=' comes before any '(' (the value runs to
/// the next top-level comma and may hold '=' and balanced parentheses), <c>key(value)</c> when a '('
/// comes first (the ')' matching it must end the item; the value may hold commas and nested
/// parentheses), else a bare flag <c>key</c>. Keys are non-empty, characters A-Z a-z 0-9 _ - .
/// (case-sensitive). Parentheses must balance and nest at most 16 deep.</para>
/// <para>Equality compares <see cref="Name"/> and <see cref="Items"/> (ordinal), not <see cref="Source"/>.</para>
/// </remarks>
public sealed class Devargs : IEquatable<Devargs>
{
    /// <summary>Deepest parenthesis nesting a devargs string may have.</summary>
    public const int MaxDepth = DevargsSyntax.MaxDepth;

    private readonly DevargsItem[] items;
    private readonly string canonical;

    /// <summary>
    /// Composes a devargs tree in code (e.g. failsafe devargs over sub-devices).
    /// <see cref="Source"/> is then the canonical string, which <see cref="Parse"/> reads back into an equal tree.
    /// Throws <see cref="ArgumentException"/> for an invalid name, or when the last item is
    /// <c>key=value</c> with a value that ends in whitespace (parsing would trim it).
    /// </summary>
    public Devargs(string name, IEnumerable<DevargsItem> items)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(items);
        if (!DevargsSyntax.IsValidName(name))
        {
            throw new ArgumentException(
                $"devargs device name {DevargsSyntax.Quote(name)} is invalid: names are non-empty and may contain only {DevargsSyntax.NameCharsText}",
                nameof(name));
        }

        DevargsItem[] array = [.. items];
        foreach (DevargsItem item in array)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(items));
        }

        if (array.Length > 0
            && array[^1] is { Form: DevargsItemForm.KeyValue, Value: { Length: > 0 } last }
            && char.IsWhiteSpace(last[^1]))
        {
            throw new ArgumentException(
                $"devargs value {DevargsSyntax.Quote(last)} of the last key '{array[^1].Key}' ends in whitespace, which parsing trims",
                nameof(items));
        }

        Name = name;
        this.items = array;
        Items = Array.AsReadOnly(array);
        canonical = Compose(name, array);
        Source = canonical;
    }

    private Devargs(string source, string name, DevargsItem[] items)
    {
        Name = name;
        this.items = items;
        Items = Array.AsReadOnly(items);
        canonical = Compose(name, items);
        Source = source;
    }

    /// <summary>The device name, e.g. <c>net_failsafe0</c>.</summary>
    public string Name { get; }

    /// <summary>The items after the name, in the order given (repeated keys appear once per occurrence).</summary>
    public IReadOnlyList<DevargsItem> Items { get; }

    /// <summary>The string this tree was parsed from, untrimmed (<see cref="DevargsItem.Position"/> indexes into it).</summary>
    public string Source { get; }

    /// <summary>Parses a devargs string; throws <see cref="DevargsException"/> (a <see cref="FormatException"/>) when malformed.</summary>
    public static Devargs Parse(string devargs)
    {
        ArgumentNullException.ThrowIfNull(devargs);
        if (!DevargsSyntax.TryParse(devargs, out string name, out DevargsItem[] parsed, out DevargsSyntax.Failure failure))
        {
            throw failure.ToException();
        }

        return new Devargs(devargs, name, parsed);
    }

    /// <summary>
    /// Parses a devargs string without throwing. On failure <paramref name="error"/> is the same
    /// one-line message <see cref="Parse"/> would throw; a null string is an error too.
    /// </summary>
    public static bool TryParse(
        [NotNullWhen(true)] string? devargs,
        [NotNullWhen(true)] out Devargs? result,
        [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (devargs is null)
        {
            error = "devargs: the devargs string is null";
            return false;
        }

        if (!DevargsSyntax.TryParse(devargs, out string name, out DevargsItem[] parsed, out DevargsSyntax.Failure failure))
        {
            error = failure.Message;
            return false;
        }

        result = new Devargs(devargs, name, parsed);
        error = null;
        return true;
    }

    /// <summary>Every item with this key, in order; empty when there is none.</summary>
    public IReadOnlyList<DevargsItem> GetAll(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        List<DevargsItem>? found = null;
        foreach (DevargsItem item in items)
        {
            if (string.Equals(item.Key, key, StringComparison.Ordinal))
            {
                (found ??= []).Add(item);
            }
        }

        return found is null ? [] : new ReadOnlyCollection<DevargsItem>(found);
    }

    /// <summary>The value of the last item with this key (any form; "" for a flag).</summary>
    public bool TryGet(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (int i = items.Length - 1; i >= 0; i--)
        {
            if (string.Equals(items[i].Key, key, StringComparison.Ordinal))
            {
                value = items[i].Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Whether any item has this key.</summary>
    public bool Has(string key) => TryGet(key, out _);

    /// <summary>The canonical devargs string: <c>name,item,item</c> with no surrounding whitespace.</summary>
    public override string ToString() => canonical;

    /// <inheritdoc/>
    public bool Equals(Devargs? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (!string.Equals(Name, other.Name, StringComparison.Ordinal) || items.Length != other.items.Length)
        {
            return false;
        }

        for (int i = 0; i < items.Length; i++)
        {
            if (!items[i].Equals(other.items[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Devargs);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        foreach (DevargsItem item in items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    private static string Compose(string name, DevargsItem[] items)
    {
        if (items.Length == 0)
        {
            return name;
        }

        var sb = new StringBuilder(name);
        foreach (DevargsItem item in items)
        {
            sb.Append(',').Append(item.Key);
            switch (item.Form)
            {
                case DevargsItemForm.KeyValue:
                    sb.Append('=').Append(item.Value);
                    break;
                case DevargsItemForm.Parenthesized:
                    sb.Append('(').Append(item.Value).Append(')');
                    break;
                default:
                    break;
            }
        }

        return sb.ToString();
    }
}
