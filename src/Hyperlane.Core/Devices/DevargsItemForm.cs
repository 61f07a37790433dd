namespace Hyperlane.Core.Devices;

/// <summary>How one top-level devargs item was written.</summary>
public enum DevargsItemForm
{
    /// <summary><c>key=value</c>: the value runs to the next top-level comma and may hold balanced parentheses.</summary>
    KeyValue,

    /// <summary><c>key(value)</c>: the value is the text between the parentheses and may hold commas and nested parentheses.</summary>
    Parenthesized,

    /// <summary>A bare <c>key</c> with no value (its <see cref="DevargsItem.Value"/> is the empty string).</summary>
    Flag,
}
