using Hyperlane.Core.Ports;

namespace Hyperlane.Core.Devices;

/// <summary>A probed virtual device and the ports it made.</summary>
public sealed class VdevDevice
{
    internal VdevDevice(string name, IVdevDriver driver, Devargs devargs, IReadOnlyList<EthDev> ports, IReadOnlyList<IDisposable>? resources = null)
    {
        Resources = resources ?? [];
        Name = name;
        Driver = driver;
        Devargs = devargs;
        Ports = ports;
    }

    public string Name { get; }

    public IVdevDriver Driver { get; }

    public Devargs Devargs { get; }

    public IReadOnlyList<EthDev> Ports { get; }

    /// <summary>What the driver tied to the device (<see cref="VdevProbeContext.OwnUntilRemoved"/>), disposed on removal.</summary>
    internal IReadOnlyList<IDisposable> Resources { get; }

    public override string ToString() => Devargs.ToString();
}
