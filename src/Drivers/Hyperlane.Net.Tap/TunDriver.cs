using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Tap;

/// <summary>
/// <c>net_tun</c>: a port backed by a Linux TUN (IFF_TUN, L3: packets start with the IP header). Devargs:
/// <c>iface</c> only (default <c>dtun%d</c>); <c>mac</c> and <c>remote</c> are refused (a TUN has no MAC).
/// </summary>
public sealed class TunDriver : IVdevDriver
{
    public const string DriverName = "net_tun";

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = [];

    public string Description => "Linux TUN port (L3, IP packets)";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("iface", maxLength: 15)
        .Bool("persist")
        .Unsupported("mac", "a TUN is an L3 device and has no MAC address (use net_tap for L2)")
        .Unsupported("remote", "remote mode needs an L2 device (use net_tap)");

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        string? iface = v.GetString("iface");
        TapDriver.CheckIfName(context.DeviceName, "iface", iface);
        try
        {
            return [TapEthDev.Create(context.DeviceName, DriverName, isTun: true, iface, null, 0, null, v.GetBool("persist"), context.Logger)];
        }
        catch (Exception ex) when (ex is Linux.LinuxException or TimeoutException)
        {
            throw new DeviceException(context.DeviceName, $"cannot create TUN {iface ?? "dtun%d"}: {ex.Message}", ex);
        }
    }
}
