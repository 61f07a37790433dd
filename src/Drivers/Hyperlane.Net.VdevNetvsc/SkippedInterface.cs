namespace Hyperlane.Net.VdevNetvsc;

/// <summary>A netdev that discovery or selection left out, and why, in one line.</summary>
/// <param name="Name">The netdev name.</param>
/// <param name="IfIndex">Its ifindex, or null when the kernel does not know it (sysfs only).</param>
/// <param name="Kind">The category of reason.</param>
/// <param name="Reason">A sentence for logs and doctor, starting with the name.</param>
public sealed record SkippedInterface(string Name, int? IfIndex, SkipKind Kind, string Reason);
