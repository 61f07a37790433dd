using System.Globalization;
using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.Failsafe;
using Xunit.Abstractions;

namespace Hyperlane.Testing;

/// <summary>
/// A network namespace with a runtime created inside it (so its control thread, which probes sub-devices from
/// alarms, probes there too), a packet pool, and what a lab test makes: readers on kernel interfaces and Tx
/// traffic threads, stopped before the runtime goes. Everything is torn down with the lab, even when the test
/// failed, and the runtime's log is printed after the test.
/// </summary>
public abstract class NamespaceLab : IDisposable
{
    /// <summary>How long a condition may take before the test fails: generous, lab tests assert no speed unless they say so.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static int counter;
    private readonly ITestOutputHelper output;
    private readonly List<IDisposable> owned = [];
    private readonly int logLines;
    private int runtimeDisposed;

    /// <summary>Takes <paramref name="ns"/> over (disposed with the lab, or at once if this constructor fails).</summary>
    protected NamespaceLab(ITestOutputHelper output, NetNamespace ns, IReadOnlyList<IVdevDriver> drivers, string poolPrefix, int logLines = 300)
    {
        ArgumentNullException.ThrowIfNull(ns);
        this.output = output;
        this.logLines = logLines;
        Ns = ns;
        Log = new LabLog();
        try
        {
            Pool = Mempool.CreatePacketPool(string.Create(CultureInfo.InvariantCulture, $"{poolPrefix}-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}"), 8192, cacheSize: 0);
            try
            {
                Runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = drivers, LoggerFactory = Log }));
            }
            catch
            {
                Pool.Dispose();
                throw;
            }
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    public NetNamespace Ns { get; }

    public HyperlaneRuntime Runtime { get; }

    public Mempool Pool { get; }

    public LabLog Log { get; }

    /// <summary>Polls <paramref name="condition"/> every 2 ms; fails the test with <paramref name="what"/> after <paramref name="timeout"/> (default <see cref="Timeout"/>). Returns the time it took.</summary>
    public static TimeSpan WaitUntil(Func<bool> condition, Func<string> what, TimeSpan? timeout = null) => Wait.Until(condition, what, timeout ?? Timeout);

    /// <summary>A summary of a failsafe port's sub-devices, for failure messages.</summary>
    public static string Describe(FailsafeEthDev fs)
    {
        ArgumentNullException.ThrowIfNull(fs);
        var parts = new List<string> { $"tx sub-device {fs.TxSubDeviceIndex}" };
        for (int i = 0; i < fs.SubDeviceCount; i++)
        {
            parts.Add($"sub {i}: {fs.GetSubDeviceState(i)} {fs.GetSubDevicePort(i)?.Name ?? "-"} (error: {fs.GetSubDeviceError(i) ?? "none"})");
        }

        return string.Join("; ", parts);
    }

    /// <summary>One queue pair (Rx from the lab's pool), started.</summary>
    public void Start(EthDev port)
    {
        ArgumentNullException.ThrowIfNull(port);
        port.Configure(1, 1);
        port.SetupRxQueue(0, 512, Pool);
        port.SetupTxQueue(0, 512);
        port.Start();
    }

    /// <summary>A reader thread on a packet socket on <paramref name="ifname"/>; disposed with the lab if not before.</summary>
    public FrameSink Sink(string ifname) => Own(new FrameSink(KernelPort.Open(Ns, ifname)));

    /// <summary>Starts a thread transmitting lab frames on <paramref name="port"/> queue 0; stopped with the lab if not before.</summary>
    public TxTraffic Traffic(EthDev port) => Own(new TxTraffic(port, Pool));

    /// <summary>Disposes <paramref name="disposable"/> with the lab (before the runtime), unless the test does it first.</summary>
    public T Own<T>(T disposable)
        where T : IDisposable
    {
        lock (owned)
        {
            owned.Add(disposable);
        }

        return disposable;
    }

    /// <summary>Stops the traffic and the readers, then disposes the runtime (closing every port). Idempotent.</summary>
    public void DisposeRuntime()
    {
        List<IDisposable> list;
        lock (owned)
        {
            list = [.. owned];
            owned.Clear();
        }

        // Traffic first (it uses the port), then the readers.
        foreach (var d in list.OfType<TxTraffic>().Concat<IDisposable>(list.Where(d => d is not TxTraffic)))
        {
            d.Dispose();
        }

        if (Interlocked.Exchange(ref runtimeDisposed, 1) == 0)
        {
            Runtime.Dispose();
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the runtime, the pool and the namespace, then prints the log's tail; derived labs release their own things after calling it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        try
        {
            DisposeRuntime();
        }
        finally
        {
            Pool.Dispose();
            Ns.Dispose();
            foreach (string line in Log.Tail(logLines))
            {
                output.WriteLine(line);
            }
        }
    }
}
