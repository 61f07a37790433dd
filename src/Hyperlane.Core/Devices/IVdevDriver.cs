using Hyperlane.Core.Ports;

namespace Hyperlane.Core.Devices;

/// <summary>
/// A driver for virtual devices given with <c>--vdev</c>. The bus picks the driver whose name (or alias)
/// the device name starts with, validates the devargs against <see cref="Schema"/>, then calls <see cref="Probe"/>.
/// </summary>
public interface IVdevDriver
{
    /// <summary>Driver name, also the device name prefix (e.g. "net_null").</summary>
    string Name { get; }

    /// <summary>Other prefixes DPDK accepts for the same driver (e.g. "eth_null").</summary>
    IReadOnlyList<string> Aliases { get; }

    /// <summary>One line for help and <c>doctor</c>.</summary>
    string Description { get; }

    /// <summary>The devargs keys the driver accepts, with their types.</summary>
    DevargsSchema Schema { get; }

    /// <summary>Creates the device's ports (usually one). The bus registers them.</summary>
    IReadOnlyList<EthDev> Probe(VdevProbeContext context);
}
