using System.Globalization;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Tap;

/// <summary>
/// <c>net_tap</c> (alias <c>eth_tap</c>): a port backed by a Linux TAP, as DPDK's tap PMD
/// (dpdk-drivers.md §6). Devargs: <c>iface</c> (≤ 15 characters, default <c>dtap%d</c>: the kernel picks),
/// <c>mac=fixed|xx:xx:xx:xx:xx:xx</c> (fixed = 02:64:74:61:70:&lt;unit&gt;; default random locally
/// administered), <c>remote=&lt;netdev&gt;</c> (steal that netdev's traffic with tc rules), <c>persist</c>
/// (keep the netdev after close). docs/drivers/tap.md describes the driver.
/// </summary>
public sealed class TapDriver : IVdevDriver
{
    public const string DriverName = "net_tap";

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_tap"];

    public string Description => "Linux TAP port (L2); remote=<netdev> steals a netdev's traffic with tc u32/mirred";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("iface", maxLength: 15)
        .Mac("mac", allowedWords: ["fixed"])
        .String("remote", maxLength: 15)
        .Bool("persist");

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        string? iface = v.GetString("iface");
        CheckIfName(context.DeviceName, "iface", iface);
        string? remote = v.GetString("remote");
        CheckIfName(context.DeviceName, "remote", remote);
        string? mac = v.GetMac("mac");
        if (mac is not null && remote is not null)
        {
            throw new DevargsException(context.DeviceName, "mac", "mac and remote cannot be combined: in remote mode the port takes the remote netdev's MAC (set another one after probe)");
        }

        if (mac is not null && mac != "fixed")
        {
            var parsed = Packets.MacAddress.Parse(mac);
            if (!parsed.IsUnicast || parsed.IsZero)
            {
                throw new DevargsException(context.DeviceName, "mac", $"mac={mac} is not a unicast address");
            }
        }

        try
        {
            return [TapEthDev.Create(context.DeviceName, DriverName, isTun: false, iface, mac, Unit(context.DeviceName), remote, v.GetBool("persist"), context.Logger)];
        }
        catch (Exception ex) when (ex is Linux.LinuxException or TapRemoteException or TimeoutException)
        {
            throw new DeviceException(context.DeviceName, $"cannot create TAP {iface ?? "dtap%d"}: {ex.Message}", ex);
        }
    }

    /// <summary>The number at the end of the device name (net_tap3 → 3), DPDK's tap unit for <c>mac=fixed</c>.</summary>
    internal static int Unit(string deviceName)
    {
        int i = deviceName.Length;
        while (i > 0 && char.IsAsciiDigit(deviceName[i - 1]))
        {
            i--;
        }

        return i < deviceName.Length && int.TryParse(deviceName.AsSpan(i), NumberStyles.None, CultureInfo.InvariantCulture, out int unit) ? unit & 0xFF : 0;
    }

    /// <summary>Interface names: 1..15 characters, no '/', ':' or whitespace (dev_valid_name).</summary>
    internal static void CheckIfName(string device, string key, string? name)
    {
        if (name is null)
        {
            return;
        }

        if (name is "." or ".." || name.AsSpan().IndexOfAny("/: \t\n") >= 0)
        {
            throw new DevargsException(device, key, $"{key}={name} is not a valid interface name (no '/', ':' or whitespace; not . or ..)");
        }
    }
}
