namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// A sysfs symbolic link as <c>readlink</c> gives it: the target text, its last path component (the
/// driver, bus or PCI address sysfs encodes there) and whether the target exists. <see cref="Problem"/> says
/// why there is no <see cref="Name"/> (no such link, not a link, unreadable, a target with no basename).
/// </summary>
public sealed record SysfsLink(string? Target, string? Name, bool Resolves, string? Problem)
{
    /// <summary>True when the link exists and has a usable basename (whether or not it resolves).</summary>
    public bool HasName => Name is not null;

    /// <summary>True when there is no link at all (as opposed to an unreadable or odd one).</summary>
    public bool IsMissing { get; init; }
}
