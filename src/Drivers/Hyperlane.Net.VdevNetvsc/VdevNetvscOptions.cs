using Hyperlane.Linux;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>How a <see cref="VdevNetvscDriver"/> sees the host.</summary>
public sealed class VdevNetvscOptions
{
    /// <summary>The directory that stands for "/" for every sysfs read (null: <see cref="HostFs.Root"/>). Tests point it at a tree they built.</summary>
    public string? HostRoot { get; init; }

    /// <summary>What auto-probing asks about the hypervisor (default: <see cref="Hypervisor.Detect"/> over <see cref="HostRoot"/>).</summary>
    public Func<Hypervisor>? DetectHypervisor { get; init; }
}
