using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// The SR-IOV VF that carries a NetVSC netdev's traffic when accelerated networking is on: a non-NetVSC
/// netdev with the same MAC whose device/subsystem is "pci".
/// </summary>
/// <param name="Name">Its netdev name (e.g. enP2p0s2; udev may rename it).</param>
/// <param name="IfIndex">Its ifindex in the calling thread's network namespace.</param>
/// <param name="Mac">Its MAC (the NetVSC netdev's).</param>
/// <param name="PciAddress">Basename of its device link, e.g. 0002:00:02.0.</param>
/// <param name="Driver">Basename of device/driver (mlx5_core, mlx4_core, mana), or null with <see cref="DriverProblem"/>.</param>
/// <param name="DriverProblem">Why <see cref="Driver"/> is null.</param>
/// <param name="IsEnslaved">True when the kernel reports it enslaved (IFLA_MASTER) to the NetVSC netdev, as on Azure. Informational: never required.</param>
public sealed record NetvscVf(string Name, int IfIndex, MacAddress Mac, string PciAddress, string? Driver, string? DriverProblem, bool IsEnslaved)
{
    /// <summary>The driver name, or "unknown (why)".</summary>
    public string DriverText => Driver ?? $"unknown ({DriverProblem ?? "no driver"})";
}
