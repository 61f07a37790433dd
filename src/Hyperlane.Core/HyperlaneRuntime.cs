using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Core.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hyperlane.Core;

/// <summary>
/// One Hyperlane instance (DPDK's EAL): its drivers, vdev bus, ports, lcores and control thread. An
/// application normally has one; tests make as many as they like, each isolated from the others.
/// </summary>
public sealed class HyperlaneRuntime : IDisposable
{
    private readonly ILoggerFactory loggerFactory;
    private int disposed;

    public HyperlaneRuntime(HyperlaneRuntimeOptions? options = null)
    {
        options ??= new HyperlaneRuntimeOptions();
        loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        Drivers = new DriverRegistry();
        Ports = new PortRegistry();
        Vdev = new VdevBus(this, CreateLogger("vdev"));
        Lcores = new LcoreSet(options.Lcores ?? [Linux.CpuAffinity.GetAllowedCpus()[0]], CreateLogger("lcore"));
        Control = new ControlThread(CreateLogger("control"));
        foreach (var d in options.Drivers)
        {
            Drivers.Register(d);
        }
    }

    public DriverRegistry Drivers { get; }

    public PortRegistry Ports { get; }

    public VdevBus Vdev { get; }

    public LcoreSet Lcores { get; }

    public ControlThread Control { get; }

    public ILogger CreateLogger(string category) => loggerFactory.CreateLogger("hyperlane." + category);

    /// <summary>Closes every port (owned ones through their owners' devices first) and stops the control thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        foreach (var d in Vdev.Devices.Reverse())
        {
            Vdev.Remove(d.Name);
        }

        foreach (var p in Ports.All.Reverse())
        {
            if (p.Owner is { } owner)
            {
                using (owner.Enter())
                {
                    p.Close();
                }
            }
            else
            {
                p.Close();
            }
        }

        Control.Dispose();
    }
}
