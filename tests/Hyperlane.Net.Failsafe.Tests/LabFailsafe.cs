using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Tap;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// The namespace-lab tests of net_failsafe run one at a time, after every other collection (they measure a
/// failover gap and flood interfaces: other tests running beside them would only add noise).
/// </summary>
[CollectionDefinition(LabFailsafe.Collection, DisableParallelization = true)]
public sealed class LabFailsafeCollection
{
}

/// <summary>
/// A network namespace with a runtime (af_packet, tap and failsafe drivers) created inside it, so its control
/// thread, which re-probes sub-devices from the upkeep alarm, probes there too; a packet pool; and helpers to
/// make veths and taps, probe and start a failsafe port, drive Tx traffic and watch interfaces from the kernel
/// side. Everything a test makes is torn down with the lab, even when the test failed.
/// </summary>
internal sealed class LabFailsafe : IDisposable
{
    public const string Collection = "failsafe-lab";

    /// <summary>How long a condition may take before the test fails: generous, the tests never assert speed (except the failover gap).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static int counter;
    private readonly ITestOutputHelper output;
    private readonly List<IDisposable> owned = [];
    private int veths;
    private int runtimeDisposed;

    private LabFailsafe(ITestOutputHelper output, NetNamespace ns)
    {
        this.output = output;
        Ns = ns;
        Log = new LabLog();
        Pool = Mempool.CreatePacketPool(string.Create(CultureInfo.InvariantCulture, $"fslab-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}"), 8192, cacheSize: 0);
        try
        {
            Runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions
            {
                Drivers = [new AfPacketDriver(), new TapDriver(), new FailsafeDriver()],
                LoggerFactory = Log,
            }));
        }
        catch
        {
            Pool.Dispose();
            throw;
        }
    }

    public NetNamespace Ns { get; }

    public HyperlaneRuntime Runtime { get; }

    public Mempool Pool { get; }

    public LabLog Log { get; }

    public static LabFailsafe Create(ITestOutputHelper output)
    {
        var ns = NetNamespace.Create();
        try
        {
            return new LabFailsafe(output, ns);
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>The MAC of side A (n = 1, 2...) of the lab's veth number n; B ends in :02.</summary>
    public static MacAddress VethMac(int n, bool sideA) =>
        new(0x02, 0x00, 0x00, 0xaa, (byte)n, sideA ? (byte)0x01 : (byte)0x02);

    /// <summary>Adds a veth pair with unique names and lab MACs, both up; returns the names and the MACs.</summary>
    public (string A, string B, MacAddress MacA, MacAddress MacB) AddVeth()
    {
        int n = Interlocked.Increment(ref veths);
        string a = NetNamespace.UniqueIfName("hfa"), b = NetNamespace.UniqueIfName("hfb");
        var macA = VethMac(n, true);
        var macB = VethMac(n, false);
        CreateVeth(a, b, macA, macB);
        return (a, b, macA, macB);
    }

    /// <summary>
    /// Creates the veth pair <paramref name="a"/>/<paramref name="b"/>: A with its MAC and MTU and already up in
    /// the one RTM_NEWLINK that creates it (a sub-device probed the instant A appears sees its final state, and
    /// nothing we do afterwards overwrites what the failsafe replays), then B up (the kernel refuses a veth
    /// created with its peer up: ENOTCONN). A sub-device may carry Tx for the moment B is still down.
    /// </summary>
    public void CreateVeth(string a, string b, MacAddress macA, MacAddress macB, int mtu = 1500)
    {
        string m = mtu.ToString(CultureInfo.InvariantCulture);
        Ns.Ip("link", "add", a, "address", macA.ToString(), "mtu", m, "up", "type", "veth", "peer", "name", b, "address", macB.ToString(), "mtu", m);
        Ns.SetUp(b);
    }

    public static string TapName() => NetNamespace.UniqueIfName("hft");

    /// <summary>Probes inside the namespace and returns the failsafe port.</summary>
    public FailsafeEthDev Probe(string devargs) =>
        Ns.Run(() => Assert.IsType<FailsafeEthDev>(Runtime.Vdev.Probe(devargs).Ports[0]));

    /// <summary>One queue pair (Rx from the lab's pool), started.</summary>
    public void Start(EthDev port)
    {
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

    /// <summary>Polls <paramref name="condition"/> every 2 ms; fails the test with <paramref name="what"/> after <paramref name="timeout"/>. Returns the time it took.</summary>
    public static TimeSpan WaitUntil(Func<bool> condition, Func<string> what, TimeSpan? timeout = null) => Wait.Until(condition, what, timeout ?? Timeout);

    /// <summary><c>ip -d -j link show dev NAME</c>.</summary>
    public JsonElement Link(string ifname)
    {
        using var doc = JsonDocument.Parse(Ns.Ip("-d", "-j", "link", "show", "dev", ifname));
        return doc.RootElement[0].Clone();
    }

    /// <summary>A summary of the failsafe port's sub-devices, for failure messages.</summary>
    public static string Describe(FailsafeEthDev fs)
    {
        var parts = new List<string> { $"tx sub-device {fs.TxSubDeviceIndex}" };
        for (int i = 0; i < fs.SubDeviceCount; i++)
        {
            parts.Add($"sub {i}: {fs.GetSubDeviceState(i)} {fs.GetSubDevicePort(i)?.Name ?? "-"} (error: {fs.GetSubDeviceError(i) ?? "none"})");
        }

        return string.Join("; ", parts);
    }

    /// <summary>Stops the traffic and the readers, then disposes the runtime (closing every port). Idempotent.</summary>
    public void DisposeRuntime()
    {
        StopOwned();
        if (Interlocked.Exchange(ref runtimeDisposed, 1) == 0)
        {
            Runtime.Dispose();
        }
    }

    public void Dispose()
    {
        try
        {
            DisposeRuntime();
        }
        finally
        {
            Pool.Dispose();
            Ns.Dispose();
            foreach (string line in Log.Tail(300))
            {
                output.WriteLine(line);
            }
        }
    }

    private void StopOwned()
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
    }
}

/// <summary>
/// Measures how late the scheduler runs a thread that sleeps 1 ms at a time: a stall of tens of milliseconds
/// means the machine is overcommitted (other test processes on 2 cores), and a latency measured across it
/// says more about the machine than about the code under test.
/// </summary>
internal sealed class SchedulingCanary : IDisposable
{
    private readonly Thread thread;
    private readonly List<(long End, long Length)> stalls = [];
    private volatile bool stop;

    public SchedulingCanary()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "canary" };
        thread.Start();
    }

    /// <summary>The longest time (ms) the canary went without running that overlaps [from, to] (Stopwatch timestamps).</summary>
    public double MaxStallMs(long from, long to)
    {
        lock (stalls)
        {
            long max = 0;
            foreach (var (end, length) in stalls)
            {
                if (end >= from && end - length <= to)
                {
                    max = Math.Max(max, length);
                }
            }

            return LabFrames.Ms(max);
        }
    }

    public void Dispose()
    {
        if (!stop)
        {
            stop = true;
            thread.Join();
        }
    }

    private void Loop()
    {
        long threshold = Stopwatch.Frequency / 200; // 5 ms
        while (!stop)
        {
            long before = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            long after = Stopwatch.GetTimestamp();
            if (after - before > threshold)
            {
                lock (stalls)
                {
                    stalls.Add((after, after - before));
                }
            }
        }
    }
}

/// <summary>The lab's own netlink monitor (create it inside the namespace): when each interface went down and was deleted, by the Stopwatch.</summary>
internal sealed class LinkWatch : IDisposable
{
    private readonly LinkMonitor monitor = new();
    private readonly List<(long Timestamp, LinkEventArgs Event)> events = [];

    public LinkWatch() => monitor.LinkChanged += OnLinkChanged;

    /// <summary>When <paramref name="name"/> was first seen down, and deleted, after <paramref name="after"/>.</summary>
    public (long? Down, long? Gone) Find(string name, long after)
    {
        lock (events)
        {
            long? down = null, gone = null;
            foreach (var (ts, e) in events)
            {
                if (ts <= after || e.Name != name)
                {
                    continue;
                }

                if (e.Kind == LinkEventKind.Deleted)
                {
                    gone ??= ts;
                }
                else if (!e.IsUp)
                {
                    down ??= ts;
                }
            }

            return (down, gone);
        }
    }

    public void Dispose()
    {
        monitor.LinkChanged -= OnLinkChanged;
        monitor.Dispose();
    }

    private void OnLinkChanged(object? sender, LinkEventArgs e)
    {
        long now = Stopwatch.GetTimestamp();
        lock (events)
        {
            events.Add((now, e));
        }
    }
}
