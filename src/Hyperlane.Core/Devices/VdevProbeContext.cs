using Microsoft.Extensions.Logging;

namespace Hyperlane.Core.Devices;

/// <summary>What a driver gets when the vdev bus probes one of its devices.</summary>
public sealed class VdevProbeContext
{
    private readonly List<IDisposable> resources = [];

    internal VdevProbeContext(HyperlaneRuntime runtime, Devargs devargs, DevargsValues values, ILogger logger)
    {
        Runtime = runtime;
        Devargs = devargs;
        Values = values;
        Logger = logger;
    }

    public HyperlaneRuntime Runtime { get; }

    /// <summary>The device name, e.g. "net_null0".</summary>
    public string DeviceName => Devargs.Name;

    /// <summary>The parsed devargs tree (for nested <c>dev(...)</c> arguments).</summary>
    public Devargs Devargs { get; }

    /// <summary>The validated, typed values.</summary>
    public DevargsValues Values { get; }

    public ILogger Logger { get; }

    /// <summary>
    /// Registers <paramref name="port"/> now, before the probe returns, so it gets its port id ahead of the
    /// devices it probes in turn (a failsafe port is port 0 and its sub-devices come after, as in DPDK). The
    /// bus registers the other returned ports when the probe returns; a probe that fails must close it.
    /// </summary>
    public void RegisterEarly(Ports.EthDev port)
    {
        ArgumentNullException.ThrowIfNull(port);
        Runtime.Ports.Register(port);
    }

    /// <summary>
    /// Ties <paramref name="resource"/> to the device: it is disposed when the device is removed (after its
    /// ports are closed), or at once if the probe fails. For a device that drives others (net_vdev_netvsc
    /// probes failsafe ports and watches for VFs) and has no port of its own to close.
    /// </summary>
    public void OwnUntilRemoved(IDisposable resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        resources.Add(resource);
    }

    internal IReadOnlyList<IDisposable> Resources => resources;
}
