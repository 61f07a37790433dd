using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Null;

/// <summary>
/// <c>net_null</c>: a port with no wire. Rx makes packets of <c>size</c> bytes from the queue's pool;
/// Tx frees what it is given. The framework-overhead bound for benchmarks, as DPDK's null PMD.
/// Devargs: <c>size</c> (default 64), <c>copy</c> (copy packet data on Rx and Tx), <c>no-rx</c> (Rx returns nothing).
/// </summary>
public sealed class NullDriver : IVdevDriver
{
    public const string DriverName = "net_null";

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_null"];

    public string Description => "null port: Rx generates packets, Tx frees them";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .Int("size", min: 1, max: 65535, @default: 64)
        .Bool("copy")
        .Bool("no-rx");

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        return [new NullEthDev(context.DeviceName, (int)v.GetInt("size"), v.GetBool("copy"), v.GetBool("no-rx"))];
    }
}
