using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// One NetVSC netdev as discovery found it: sysfs says NetVSC and Ethernet; the kernel (rtnetlink, in the
/// calling thread's network namespace) gives its ifindex, MAC and addresses.
/// </summary>
/// <param name="Name">The netdev name, e.g. eth1.</param>
/// <param name="IfIndex">Its ifindex.</param>
/// <param name="Mac">Its MAC, from IFLA_ADDRESS.</param>
/// <param name="Addresses">Its IPv4/IPv6 addresses as "address/prefix"; any address makes it routed.</param>
/// <param name="Driver">Basename of device/driver (hv_netvsc), or null with <see cref="DriverProblem"/>.</param>
/// <param name="DriverProblem">Why <see cref="Driver"/> is null.</param>
/// <param name="Vf">Its VF, or null when none is present now.</param>
public sealed record NetvscInterface(
    string Name,
    int IfIndex,
    MacAddress Mac,
    IReadOnlyList<string> Addresses,
    string? Driver,
    string? DriverProblem,
    NetvscVf? Vf)
{
    /// <summary>True when it has any IPv4 or IPv6 address (DPDK's rule: such an interface is in use by the host).</summary>
    public bool IsRouted => Addresses.Count > 0;

    /// <summary>The driver name, or "unknown (why)".</summary>
    public string DriverText => Driver ?? $"unknown ({DriverProblem ?? "no driver"})";
}
