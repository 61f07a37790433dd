using System.Globalization;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Net.Failsafe;
using Hyperlane.Packets;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// <c>net_vdev_netvsc</c> (alias <c>eth_vdev_netvsc</c>): on Hyper-V/Azure, one failsafe port per NetVSC netdev,
/// over a TAP fallback (<c>remote=</c> the netdev) and the SR-IOV VF with the same MAC, fed through the failsafe
/// port's <c>fd()</c> pipe and driven through its kernel netdev with net_af_packet. Devargs: <c>iface</c> and
/// <c>mac</c> (each repeatable), <c>force</c>, <c>ignore</c>, <c>vf_poll</c> (ms, default 1000). Without
/// iface/mac it takes every unrouted NetVSC netdev and leaves routed ones to the host. Probed automatically on
/// Hyper-V (CPUID or /sys/bus/vmbus) when the user named none of its devices.
/// </summary>
public sealed partial class VdevNetvscDriver : IVdevDriver, IVdevAutoProbe
{
    public const string DriverName = NetvscDiscovery.DriverName;

    private readonly VdevNetvscOptions options;
    private readonly List<NetvscDevice> devices = [];
    private int nextId = -1;

    public VdevNetvscDriver(VdevNetvscOptions? options = null)
    {
        this.options = options ?? new VdevNetvscOptions();
    }

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_vdev_netvsc"];

    public string Description => "Hyper-V/Azure: a failsafe port per NetVSC netdev (TAP remote= fallback + VF via af_packet)";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("iface", repeatable: true, maxLength: 15)
        .Mac("mac", repeatable: true)
        .Bool("force")
        .Bool("ignore")
        .Int("vf_poll", min: 10, max: 3_600_000, @default: 1000);

    /// <summary>The devices probed and not yet removed.</summary>
    public IReadOnlyList<NetvscDevice> Devices
    {
        get
        {
            lock (devices)
            {
                return [.. devices];
            }
        }
    }

    /// <summary>What the driver reads sysfs through.</summary>
    public NetvscDiscovery Discovery => new(options.HostRoot);

    public string? AutoProbeDevargs(out string reason)
    {
        Hypervisor hv = options.DetectHypervisor?.Invoke() ?? Hypervisor.Detect(options.HostRoot);
        if (!hv.IsHyperV)
        {
            reason = $"not Hyper-V (CPUID vendor {hv.CpuidVendor ?? "none"}, no /sys/bus/vmbus)";
            return null;
        }

        reason = hv.CpuidSaysHyperV
            ? $"Hyper-V: CPUID says {Hypervisor.HyperVSignature}" + (hv.VmbusPresent ? " and /sys/bus/vmbus exists" : string.Empty)
            : "Hyper-V: /sys/bus/vmbus exists";
        return DriverName + "0";
    }

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string name = context.DeviceName;
        var v = context.Values;
        if (v.GetBool("ignore"))
        {
            LogIgnored(context.Logger, name);
            return [];
        }

        foreach (string needed in new[] { FailsafeDriver.DriverName, "net_tap", "net_af_packet" })
        {
            if (context.Runtime.Drivers.Match(needed + "_vsc0") is not { } d || d.Name != needed)
            {
                throw new DeviceException(name, $"needs the {needed} driver, which this runtime does not have");
            }
        }

        var macs = new List<MacAddress>();
        foreach (string text in v.GetMacs("mac"))
        {
            var mac = MacAddress.Parse(text);
            if (!mac.IsUnicast || mac.IsZero)
            {
                throw new DevargsException(name, "mac", $"mac={text} is not a unicast address, so no netdev can have it");
            }

            macs.Add(mac);
        }

        IReadOnlyList<string> ifaces = v.GetStrings("iface");
        bool auto = ifaces.Count == 0 && macs.Count == 0;
        var discovery = Discovery;
        var rtnl = new RtNetlink(); // in the probing thread's network namespace, like every netdev it names
        NetvscDevice? device = null;
        try
        {
            IReadOnlyList<LinkInfo> links = rtnl.DumpLinks();
            IReadOnlyList<AddressInfo> addresses = rtnl.DumpAddresses();
            NetvscScan scan = discovery.Scan(links, addresses);
            var warnings = new List<string>();
            var skipped = new List<SkippedInterface>();
            IReadOnlyList<NetvscTarget> targets = NetvscTargetSelector.Select(name, ifaces, macs, v.GetBool("force"), scan, links, addresses, discovery, warnings, skipped);
            foreach (string w in warnings)
            {
                LogWarning(context.Logger, name, w);
            }

            foreach (var s in skipped)
            {
                LogSkipped(context.Logger, name, s.Reason);
            }

            if (targets.Count == 0)
            {
                LogNothing(context.Logger, name, scan.Interfaces.Count);
            }

            device = new NetvscDevice(name, context.Runtime, context.Logger, discovery, rtnl, TimeSpan.FromMilliseconds(v.GetInt("vf_poll")), Forget);
            lock (devices)
            {
                devices.Add(device);
            }

            context.OwnUntilRemoved(device); // from here on the bus disposes it (and the rtnl socket) if the probe fails
            foreach (var target in targets)
            {
                int id = Interlocked.Increment(ref nextId);
                try
                {
                    device.Attach(id, target);
                }
                catch (Exception ex) when (auto && ex is DeviceException or DevargsException or LinuxException or IOException)
                {
                    // Nobody asked for this netdev: say why it was left out and go on with the others.
                    LogAutoAttachFailed(context.Logger, ex, name, target.Name);
                }
            }

            device.Start();
            return [];
        }
        catch when (device is null)
        {
            rtnl.Dispose();
            throw;
        }
    }

    private void Forget(NetvscDevice device)
    {
        lock (devices)
        {
            devices.Remove(device);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: ignore=1, nothing probed")]
    private static partial void LogIgnored(ILogger logger, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: {Warning}")]
    private static partial void LogWarning(ILogger logger, string device, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: skipped {Reason}")]
    private static partial void LogSkipped(ILogger logger, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: no unrouted NetVSC netdev to attach to ({Count} NetVSC netdev(s) found); no port")]
    private static partial void LogNothing(ILogger logger, string device, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Device}: cannot attach to {Netdev}; left out")]
    private static partial void LogAutoAttachFailed(ILogger logger, Exception ex, string device, string netdev);
}
