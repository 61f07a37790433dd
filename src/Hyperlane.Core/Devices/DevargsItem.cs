namespace Hyperlane.Core.Devices;

/// <summary>
/// One top-level item of a devargs string: <c>key=value</c>, <c>key(value)</c> or a bare <c>key</c>.
/// Immutable. Equality compares <see cref="Key"/>, <see cref="Value"/> and <see cref="Form"/>
/// (ordinal); <see cref="Position"/> is where the item came from and is not part of it.
/// </summary>
public sealed class DevargsItem : IEquatable<DevargsItem>
{
    /// <summary>
    /// Builds an item to compose a devargs string (e.g. a failsafe <c>dev(...)</c> around a sub-device).
    /// Throws <see cref="ArgumentException"/> when the item could not be written and parsed back
    /// unchanged: a key outside [A-Za-z0-9_-.], a flag with a value, a key=value value with a comma
    /// outside parentheses, unbalanced parentheses, or nesting deeper than 16.
    /// </summary>
    public DevargsItem(string key, string value, DevargsItemForm form)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!DevargsSyntax.IsValidKey(key))
        {
            throw new ArgumentException(
                $"devargs key {DevargsSyntax.Quote(key)} is invalid: keys are non-empty and may contain only {DevargsSyntax.KeyCharsText}",
                nameof(key));
        }

        string? problem = form switch
        {
            DevargsItemForm.KeyValue => DevargsSyntax.CheckNestedText(value, DevargsSyntax.MaxDepth, forbidTopLevelComma: true),
            DevargsItemForm.Parenthesized => DevargsSyntax.CheckNestedText(value, DevargsSyntax.MaxDepth - 1, forbidTopLevelComma: false),
            DevargsItemForm.Flag => value.Length == 0 ? null : "a flag has no value",
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "unknown devargs item form"),
        };
        if (problem is not null)
        {
            throw new ArgumentException($"devargs value {DevargsSyntax.Quote(value)} of key '{key}' is invalid: {problem}", nameof(value));
        }

        Key = key;
        Value = value;
        Form = form;
        Position = -1;
    }

    /// <summary>Parser constructor: the parser has already checked everything.</summary>
    internal DevargsItem(string key, string value, DevargsItemForm form, int position)
    {
        Key = key;
        Value = value;
        Form = form;
        Position = position;
    }

    /// <summary>The key, e.g. <c>size</c>, <c>dev</c>, <c>copy</c>.</summary>
    public string Key { get; }

    /// <summary>
    /// The value: text after '=' for <see cref="DevargsItemForm.KeyValue"/>, text between the
    /// parentheses for <see cref="DevargsItemForm.Parenthesized"/>, "" for <see cref="DevargsItemForm.Flag"/>.
    /// Whitespace inside is kept. A <c>dev(...)</c> value is itself a devargs string:
    /// <c>Devargs.Parse(item.Value)</c>.
    /// </summary>
    public string Value { get; }

    /// <summary>How the item was written.</summary>
    public DevargsItemForm Form { get; }

    /// <summary>0-based index of the key's first character in <see cref="Devargs.Source"/>; -1 for an item built in code.</summary>
    public int Position { get; }

    /// <summary>The item as written in canonical form: <c>key=value</c>, <c>key(value)</c> or <c>key</c>.</summary>
    public override string ToString() => Form switch
    {
        DevargsItemForm.KeyValue => Key + "=" + Value,
        DevargsItemForm.Parenthesized => Key + "(" + Value + ")",
        _ => Key,
    };

    /// <inheritdoc/>
    public bool Equals(DevargsItem? other) =>
        other is not null
        && Form == other.Form
        && string.Equals(Key, other.Key, StringComparison.Ordinal)
        && string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DevargsItem);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(StringComparer.Ordinal.GetHashCode(Key), StringComparer.Ordinal.GetHashCode(Value), Form);
}
