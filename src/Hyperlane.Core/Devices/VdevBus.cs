using System.Runtime.ExceptionServices;
using Hyperlane.Core.Ports;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Core.Devices;

/// <summary>
/// The virtual-device bus (DPDK's vdev): probes devices from devargs strings, at start-up or at run time
/// (hot-plug), and removes them.
/// </summary>
public sealed partial class VdevBus
{
    private readonly HyperlaneRuntime runtime;
    private readonly Dictionary<string, VdevDevice> devices = new(StringComparer.Ordinal);
    private readonly Lock sync = new();
    private readonly ILogger logger;

    internal VdevBus(HyperlaneRuntime runtime, ILogger logger)
    {
        this.runtime = runtime;
        this.logger = logger;
    }

    public IReadOnlyList<VdevDevice> Devices
    {
        get
        {
            lock (sync)
            {
                return [.. devices.Values];
            }
        }
    }

    /// <summary>
    /// Probes the device described by <paramref name="devargs"/> (e.g. "net_null0,size=128") and registers
    /// its ports. Throws <see cref="DevargsException"/> for bad arguments and <see cref="DeviceException"/>
    /// when no driver matches, the name is taken, or the driver fails.
    /// </summary>
    public VdevDevice Probe(string devargs)
    {
        ArgumentNullException.ThrowIfNull(devargs);
        var args = Devargs.Parse(devargs);
        var driver = runtime.Drivers.Match(args.Name)
            ?? throw new DeviceException(args.Name, $"no driver for this device name (known drivers: {string.Join(", ", runtime.Drivers.Drivers.Select(d => d.Name).Order(StringComparer.Ordinal))})");
        var values = driver.Schema.Validate(args);

        lock (sync)
        {
            if (devices.ContainsKey(args.Name) || runtime.Ports.FindByName(args.Name) is not null)
            {
                throw new DeviceException(args.Name, "a device with this name already exists");
            }

            // Reserve the name while the driver probes (it may probe nested devices on this bus).
            devices[args.Name] = new VdevDevice(args.Name, driver, args, []);
        }

        IReadOnlyList<EthDev> ports = [];
        var context = new VdevProbeContext(runtime, args, values, runtime.CreateLogger(driver.Name));
        try
        {
            ports = driver.Probe(context);
            foreach (var p in ports)
            {
                if (p.PortId == ushort.MaxValue) // not registered early by the driver
                {
                    runtime.Ports.Register(p);
                }
            }
        }
        catch (Exception ex)
        {
            Forget(args.Name);
            foreach (var p in ports)
            {
                p.Close(); // nothing of a failed probe stays behind
            }

            DisposeResources(args.Name, context.Resources);

            if (ex is DevargsException or DeviceException)
            {
                throw;
            }

            throw new DeviceException(args.Name, $"probe failed: {ex.Message}", ex);
        }

        var device = new VdevDevice(args.Name, driver, args, ports, [.. context.Resources]);
        lock (sync)
        {
            devices[args.Name] = device;
        }

        LogProbed(logger, args.Name, driver.Name, string.Join(", ", ports.Select(p => p.PortId)));
        return device;
    }

    /// <summary>
    /// Closes the device's ports and forgets it (hot-unplug). False when there is no such device. Every port
    /// is closed even if closing one fails; the first failure is thrown afterwards.
    /// </summary>
    public bool Remove(string name)
    {
        VdevDevice? device;
        lock (sync)
        {
            if (!devices.Remove(name, out device))
            {
                return false;
            }
        }

        ExceptionDispatchInfo? failure = null;
        foreach (var p in device.Ports)
        {
            try
            {
                p.CloseOnBehalfOfOwner();
            }
            catch (Exception ex)
            {
                failure ??= ExceptionDispatchInfo.Capture(ex);
            }
        }

        DisposeResources(name, device.Resources);
        LogRemoved(logger, name);
        failure?.Throw();
        return true;
    }

    /// <summary>
    /// Probes what the application asked for at start-up (<paramref name="devargs"/>, in order), then every
    /// driver that probes itself (<see cref="IVdevAutoProbe"/>) when the user named none of its devices, as
    /// DPDK's EAL does for net_vdev_netvsc on Hyper-V. Returns the devices probed automatically.
    /// </summary>
    public IReadOnlyList<VdevDevice> ProbeStartup(IEnumerable<string> devargs)
    {
        ArgumentNullException.ThrowIfNull(devargs);
        var given = new List<IVdevDriver>();
        foreach (string d in devargs)
        {
            var device = Probe(d);
            given.Add(device.Driver);
        }

        var auto = new List<VdevDevice>();
        foreach (var driver in runtime.Drivers.Drivers)
        {
            if (driver is not IVdevAutoProbe autoProbe)
            {
                continue;
            }

            if (given.Contains(driver))
            {
                LogAutoProbeSkipped(logger, driver.Name, "the command line names one of its devices");
                continue;
            }

            string? autoDevargs = autoProbe.AutoProbeDevargs(out string reason);
            if (autoDevargs is null)
            {
                LogAutoProbeSkipped(logger, driver.Name, reason);
                continue;
            }

            LogAutoProbe(logger, autoDevargs, reason);
            auto.Add(Probe(autoDevargs));
        }

        return auto;
    }

    private void DisposeResources(string name, IReadOnlyList<IDisposable> resources)
    {
        for (int i = resources.Count - 1; i >= 0; i--)
        {
            try
            {
                resources[i].Dispose();
            }
            catch (Exception ex)
            {
                LogResourceFailed(logger, ex, name);
            }
        }
    }

    public VdevDevice? Find(string name)
    {
        lock (sync)
        {
            return devices.GetValueOrDefault(name);
        }
    }

    private void Forget(string name)
    {
        lock (sync)
        {
            devices.Remove(name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "vdev {Device}: probed by {Driver}, port(s) {Ports}")]
    private static partial void LogProbed(ILogger logger, string device, string driver, string ports);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vdev {Device}: releasing what the driver held failed")]
    private static partial void LogResourceFailed(ILogger logger, Exception ex, string device);

    [LoggerMessage(Level = LogLevel.Information, Message = "vdev: probing {Devargs} automatically: {Reason}")]
    private static partial void LogAutoProbe(ILogger logger, string devargs, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vdev: no automatic {Driver}: {Reason}")]
    private static partial void LogAutoProbeSkipped(ILogger logger, string driver, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "vdev {Device}: removed")]
    private static partial void LogRemoved(ILogger logger, string device);
}
