namespace Hyperlane.Memory;

/// <summary>How a region should be backed.</summary>
public sealed record RegionOptions
{
    public static RegionOptions Default { get; } = new();

    /// <summary>The region must be shareable with another process by fd (vhost-user). Rules out <see cref="RegionBacking.AnonymousThp"/>.</summary>
    public bool Shareable { get; init; }

    /// <summary>Use hugepages when enough are free (default). When false, never use them.</summary>
    public bool AllowHugepages { get; init; } = true;

    /// <summary>Fail instead of falling back when hugepages cannot be had.</summary>
    public bool RequireHugepages { get; init; }
}
