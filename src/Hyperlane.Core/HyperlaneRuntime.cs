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
public sealed partial class HyperlaneRuntime : IDisposable
{
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private int disposed;

    public HyperlaneRuntime(HyperlaneRuntimeOptions? options = null)
    {
        options ??= new HyperlaneRuntimeOptions();
        loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        logger = CreateLogger("runtime");
        Drivers = new DriverRegistry();
        Ports = new PortRegistry();
        Vdev = new VdevBus(this, CreateLogger("vdev"));
        Lcores = new LcoreSet(options.Lcores ?? [Linux.CpuAffinity.GetAllowedCpus()[0]], CreateLogger("lcore"));
        foreach (var d in options.Drivers)
        {
            Drivers.Register(d);
        }

        // Last: a constructor that threw above must not leave a control thread running.
        Control = new ControlThread(CreateLogger("control"));
    }

    public DriverRegistry Drivers { get; }

    public PortRegistry Ports { get; }

    public VdevBus Vdev { get; }

    public LcoreSet Lcores { get; }

    public ControlThread Control { get; }

    /// <summary>True once <see cref="Dispose"/> has begun: alarms must not probe new devices any more.</summary>
    public bool IsShuttingDown => Volatile.Read(ref disposed) != 0;

    public ILogger CreateLogger(string category) => loggerFactory.CreateLogger("hyperlane." + category);

    /// <summary>Closes every port (owned ones through their owners' devices first) and stops the control thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        // A port whose driver fails to close is still closed (EthDev.Close); log the failure and go on.
        // Devices the application holds first (a failsafe port tears down its own sub-devices), then the rest.
        var devices = Vdev.Devices.Reverse().ToList();
        foreach (var d in devices.Where(d => d.Ports.All(p => p.Owner is null)).Concat(devices.Where(d => d.Ports.Any(p => p.Owner is not null))))
        {
            try
            {
                Vdev.Remove(d.Name);
            }
            catch (Exception ex)
            {
                LogCloseFailed(logger, ex, d.Name);
            }
        }

        foreach (var p in Ports.All.Reverse())
        {
            try
            {
                p.CloseOnBehalfOfOwner();
            }
            catch (Exception ex)
            {
                LogCloseFailed(logger, ex, p.Name);
            }
        }

        Control.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "runtime dispose: closing {Device} failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception ex, string device);
}
