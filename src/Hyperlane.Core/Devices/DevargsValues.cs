namespace Hyperlane.Core.Devices;

/// <summary>
/// Typed values of one devargs string that passed <see cref="DevargsSchema.Validate(Devargs)"/>.
/// Single-value getters return the last occurrence of a repeatable key, else the key's default.
/// Asking for a key the schema does not declare, or with the wrong getter for its kind, is a
/// programming error (<see cref="ArgumentException"/> / <see cref="InvalidOperationException"/>).
/// </summary>
public sealed class DevargsValues
{
    private readonly Dictionary<string, DevargsSlot> slots;

    internal DevargsValues(DevargsSchema schema, Devargs devargs, Dictionary<string, DevargsSlot> slots)
    {
        Schema = schema;
        Devargs = devargs;
        this.slots = slots;
    }

    /// <summary>The schema the string was validated against.</summary>
    public DevargsSchema Schema { get; }

    /// <summary>The parsed string.</summary>
    public Devargs Devargs { get; }

    /// <summary>The device name, e.g. <c>net_null0</c>.</summary>
    public string DeviceName => Devargs.Name;

    /// <summary>Whether the string gives the key at least once.</summary>
    public bool IsSet(string key)
    {
        Declared(key);
        return slots.ContainsKey(key);
    }

    /// <summary>How many times the string gives the key.</summary>
    public int Count(string key)
    {
        Declared(key);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Count : 0;
    }

    /// <summary>
    /// An Int key's (last) value, else its default; <see cref="InvalidOperationException"/> when it
    /// was not given and has no default (check <see cref="IsSet"/> first).
    /// </summary>
    public long GetInt(string key)
    {
        DevargsKey spec = Declared(key, DevargsKeyKind.Int);
        if (slots.TryGetValue(key, out DevargsSlot? slot))
        {
            return slot.Ints[^1];
        }

        return spec.DefaultInt
            ?? throw new InvalidOperationException($"devargs key '{key}' of {Schema.DriverName} was not given and has no default; check IsSet first");
    }

    /// <summary>Every value of an Int key, in order; empty when not given (the default is not included).</summary>
    public IReadOnlyList<long> GetInts(string key)
    {
        Declared(key, DevargsKeyKind.Int);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Ints.AsReadOnly() : [];
    }

    /// <summary>A Bool key's value (the bare flag form is true), else its default.</summary>
    public bool GetBool(string key)
    {
        DevargsKey spec = Declared(key, DevargsKeyKind.Bool);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Bool : spec.DefaultBool;
    }

    /// <summary>A String or Enum key's (last) value as given, else its default, else null.</summary>
    public string? GetString(string key)
    {
        DevargsKey spec = Declared(key, DevargsKeyKind.String, DevargsKeyKind.Enum);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Texts[^1] : spec.DefaultString;
    }

    /// <summary>Every value of a String or Enum key, in order; empty when not given (the default is not included).</summary>
    public IReadOnlyList<string> GetStrings(string key)
    {
        Declared(key, DevargsKeyKind.String, DevargsKeyKind.Enum);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Texts.AsReadOnly() : [];
    }

    /// <summary>
    /// A Mac key's (last) value: the address in canonical form (uppercase, ':' separated, e.g.
    /// <c>02:00:00:00:00:01</c>) or the allowed word as given (e.g. <c>fixed</c>); else its default, else null.
    /// </summary>
    public string? GetMac(string key)
    {
        DevargsKey spec = Declared(key, DevargsKeyKind.Mac);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Texts[^1] : spec.DefaultString;
    }

    /// <summary>Every value of a Mac key in the form <see cref="GetMac"/> uses; empty when not given.</summary>
    public IReadOnlyList<string> GetMacs(string key)
    {
        Declared(key, DevargsKeyKind.Mac);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Texts.AsReadOnly() : [];
    }

    /// <summary>
    /// The six octets of <see cref="GetMac"/>'s value (a new array), or null when it is a word or
    /// the key has no value.
    /// </summary>
    public byte[]? GetMacBytes(string key)
    {
        string? mac = GetMac(key);
        return mac is not null && DevargsSchema.TryParseMac(mac, out byte[]? octets) ? octets : null;
    }

    /// <summary>The contents of every <c>key(...)</c> of a Parenthesized key, in order; empty when not given.</summary>
    public IReadOnlyList<string> GetParenthesized(string key)
    {
        Declared(key, DevargsKeyKind.Parenthesized);
        return slots.TryGetValue(key, out DevargsSlot? slot) ? slot.Texts.AsReadOnly() : [];
    }

    private DevargsKey Declared(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Schema.TryGetKey(key, out DevargsKey? spec))
        {
            throw new ArgumentException($"devargs key '{key}' is not declared in the {Schema.DriverName} schema", nameof(key));
        }

        return spec;
    }

    private DevargsKey Declared(string key, DevargsKeyKind kind, DevargsKeyKind? alternative = null)
    {
        DevargsKey spec = Declared(key);
        if (spec.Kind != kind && spec.Kind != alternative)
        {
            throw new InvalidOperationException(
                $"devargs key '{key}' of {Schema.DriverName} is a {spec.Kind} key; use the getter for that kind");
        }

        return spec;
    }
}
