namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// What one sysfs read gave: the text (trimmed) or, when there is none, why (missing, unreadable, too large).
/// Exactly one of <see cref="Value"/> and <see cref="Problem"/> is set.
/// </summary>
public readonly record struct SysfsValue(string? Value, string? Problem)
{
    /// <summary>True when the attribute was read.</summary>
    public bool IsRead => Value is not null;

    /// <summary>True when the attribute does not exist (as opposed to existing and being unreadable).</summary>
    public bool IsMissing { get; init; }

    public static SysfsValue Of(string value) => new(value, null);

    public static SysfsValue Missing(string problem) => new(null, problem) { IsMissing = true };

    public static SysfsValue Failed(string problem) => new(null, problem);
}
