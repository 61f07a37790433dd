using System.Diagnostics;
using System.Globalization;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Failsafe;
using Hyperlane.Net.Null;
using Hyperlane.Net.Ring;
using Hyperlane.Net.Tap;
using Hyperlane.Net.VdevNetvsc;
using Hyperlane.Net.Vhost;
using Hyperlane.Net.VirtioUser;
using Hyperlane.Packets;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Cli.TestPmd;

/// <summary>
/// One testpmd run: probes the devices, makes the mbuf pool, configures and starts every port, builds
/// the forwarding streams, then forwards (non-interactive) or serves the prompt (interactive).
/// </summary>
public sealed class TestPmdSession : IDisposable
{
    private const int MempoolCache = 256;
    private readonly TestPmdOptions options;
    private readonly TextWriter output;
    private readonly HyperlaneRuntime runtime;
    private readonly StatsPrinter printer;
    private readonly List<EthDev> ports = [];
    private readonly Dictionary<ushort, EthStats> startStats = [];
    private readonly Stopwatch forwardingClock = new();
    private Mempool? pool;
    private ForwardingEngine? engine;
    private double forwardedSeconds;

    public TestPmdSession(TestPmdOptions options, TextWriter output, ILoggerFactory loggerFactory)
    {
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        this.output = output ?? throw new ArgumentNullException(nameof(output));
        printer = new StatsPrinter(output);
        var lcores = options.Lcores.Count > 0 ? options.Lcores : Linux.CpuAffinity.GetAllowedCpus();
        if (options.MainLcore is { } main)
        {
            if (!lcores.Contains(main))
            {
                throw new CommandLineException($"--main-lcore {main} is not in the lcore list {string.Join(",", lcores)}");
            }

            lcores = [main, .. lcores.Where(l => l != main)];
        }

        try
        {
            runtime = new HyperlaneRuntime(new HyperlaneRuntimeOptions
            {
                Lcores = lcores,
                LoggerFactory = loggerFactory,
                Drivers = [new NullDriver(), new RingDriver(), new TapDriver(), new TunDriver(), new AfPacketDriver(), new FailsafeDriver(), new VdevNetvscDriver(), new VhostDriver(), new VirtioUserDriver()],
            });
        }
        catch (ArgumentException ex)
        {
            throw new CommandLineException($"-l: {CliText.WithoutParameterName(ex)}");
        }
    }

    public IReadOnlyList<EthDev> Ports => ports;

    public ForwardingEngine Engine => engine ?? throw new InvalidOperationException("the session is not set up");

    public Mempool Pool => pool ?? throw new InvalidOperationException("the session is not set up");

    public bool IsForwarding => engine?.IsRunning == true;

    /// <summary>Probes devices, creates the pool, configures and starts ports, and builds the streams.</summary>
    public void Setup()
    {
        if (options.BuiltInDefault)
        {
            // The demo: a linked ring pair, nothing probed automatically (it needs no root and no hardware).
            RingDriver.CreateLinkedPair(runtime, "net_ring0", "net_ring1");
        }
        else
        {
            // The user's --vdev list, then drivers that probe themselves (net_vdev_netvsc on Hyper-V).
            runtime.Vdev.ProbeStartup(options.Vdevs);
        }

        ports.AddRange(runtime.Ports.Ports);
        if (ports.Count == 0)
        {
            throw new CommandLineException("No probed ethernet devices (give at least one --vdev, e.g. --vdev net_null0)");
        }

        var workers = runtime.Lcores.Workers.Select(l => l.Id).ToList();
        var fwdLcores = workers.Count == 0 ? [runtime.Lcores.Main.Id] : workers;
        if (options.NbCores > fwdLcores.Count)
        {
            throw new CommandLineException($"--nb-cores {options.NbCores}: only {fwdLcores.Count} forwarding lcore(s) in the core list (-l {string.Join(",", runtime.Lcores.All.Select(l => l.Id))}; the first is the main lcore)");
        }

        int streamsPerPort = options.RxQueues;
        int total = options.TotalNumMbufs ?? Math.Max(
            8192,
            (ports.Count * ((options.RxQueues * options.RxDescriptors) + (options.TxQueues * options.TxDescriptors)))
            + (runtime.Lcores.All.Count * MempoolCache * 3 / 2)
            + (ports.Count * streamsPerPort * options.Burst * options.TxPackets.Count * 2)
            + 4096);
        // A port that shares packet memory with another process (virtio_user) needs a memfd-backed pool.
        bool shareable = ports.Any(p => p.Info.RequiresShareableMempool);
        pool = Mempool.CreatePacketPool("mb_pool_0", total, MempoolCache, options.MbufSize, region: shareable ? new RegionOptions { Shareable = true } : null);
        output.WriteLine(I($"testpmd: create a new mbuf pool <mb_pool_0>: n={total}, size={options.MbufSize}, socket=0 ({pool.Region.Backing}: {pool.Region.Reason})"));

        foreach (var port in ports)
        {
            ConfigurePort(port);
        }

        var streams = BuildStreams();
        engine = new ForwardingEngine(runtime, pool, [.. fwdLcores.Take(options.NbCores)], streams, options.Burst, options.TxPackets);
    }

    /// <summary>Starts forwarding (testpmd's start).</summary>
    public void StartForwarding(bool txFirst)
    {
        var e = Engine;
        if (e.IsRunning)
        {
            output.WriteLine("Packet forwarding already started");
            return;
        }

        PrintForwardingConfig();
        startStats.Clear();
        foreach (var p in ports)
        {
            startStats[p.PortId] = p.GetStats();
        }

        foreach (var s in e.Streams)
        {
            s.RxPackets = s.TxPackets = s.FwdDrops = s.AllocFailures = 0;
        }

        forwardingClock.Restart();
        e.Start(txFirst);
    }

    /// <summary>Stops forwarding and prints testpmd's forward statistics; returns the per-port results.</summary>
    public IReadOnlyList<PortResult> StopForwarding()
    {
        var e = Engine;
        if (!e.IsRunning)
        {
            output.WriteLine("Packet forwarding not started");
            return [];
        }

        output.WriteLine("Telling cores to stop...");
        output.WriteLine("Waiting for lcores to finish...");
        e.Stop();
        forwardingClock.Stop();
        forwardedSeconds = forwardingClock.Elapsed.TotalSeconds;
        var results = Results();
        foreach (var r in results)
        {
            printer.PrintForwardStats(r.Port, r.RxPackets, r.RxMissed, r.TxPackets, r.FwdDrops + r.TxErrors);
        }

        printer.PrintAccumulated(results.Sum(r => r.RxPackets), results.Sum(r => r.RxMissed), results.Sum(r => r.TxPackets), results.Sum(r => r.FwdDrops + r.TxErrors));
        output.WriteLine();
        output.WriteLine("Done.");
        return results;
    }

    /// <summary>Per-port figures since forwarding last started.</summary>
    public IReadOnlyList<PortResult> Results()
    {
        var list = new List<PortResult>();
        double secs = Engine.IsRunning ? forwardingClock.Elapsed.TotalSeconds : forwardedSeconds;
        foreach (var p in ports)
        {
            var now = p.GetStats();
            var then = startStats.GetValueOrDefault(p.PortId) ?? new EthStats();
            long drops = Engine.Streams.Where(s => (s.Mode == ForwardMode.Generator ? s.RxPort : s.TxPort) == p).Sum(s => s.FwdDrops);
            list.Add(new PortResult(
                p.PortId,
                p.Name,
                now.RxPackets - then.RxPackets,
                now.TxPackets - then.TxPackets,
                now.RxBytes - then.RxBytes,
                now.TxBytes - then.TxBytes,
                now.RxMissed - then.RxMissed,
                now.RxErrors - then.RxErrors,
                now.RxNoMbuf - then.RxNoMbuf,
                now.TxErrors - then.TxErrors,
                drops,
                secs));
        }

        return list;
    }

    public void PrintStats()
    {
        foreach (var p in ports)
        {
            printer.PrintNicStats(p);
        }
    }

    /// <summary>
    /// Non-interactive run: forward until <paramref name="cancel"/> fires or --duration passes,
    /// printing stats every --stats-period; then stop and print final stats.
    /// </summary>
    public IReadOnlyList<PortResult> RunUntil(CancellationToken cancel)
    {
        StartForwarding(options.TxFirst);
        var deadline = options.Duration is { } d ? Stopwatch.GetTimestamp() + (long)(d * Stopwatch.Frequency) : long.MaxValue;
        long nextStats = options.StatsPeriod > 0 ? Stopwatch.GetTimestamp() + (options.StatsPeriod * Stopwatch.Frequency) : long.MaxValue;
        if (options.StatsPeriod > 0)
        {
            PrintStats(); // baseline sample, as testpmd's first display
        }

        while (!cancel.IsCancellationRequested)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                break;
            }

            if (now >= nextStats)
            {
                if (!Console.IsOutputRedirected && ReferenceEquals(output, Console.Out))
                {
                    output.Write("\u001b[2J\u001b[1;1H"); // clear screen, as testpmd does with --stats-period
                }

                PrintStats();
                output.Flush();
                nextStats += options.StatsPeriod * Stopwatch.Frequency;
                continue;
            }

            long wakeAt = Math.Min(deadline, nextStats);
            int ms = (int)Math.Clamp((wakeAt - now) * 1000 / Stopwatch.Frequency, 1, 200);
            cancel.WaitHandle.WaitOne(ms);
        }

        return StopForwarding();
    }

    /// <summary>Writes the --summary-json document.</summary>
    public void WriteSummary(string path, IReadOnlyList<PortResult> results)
    {
        var mode = options.BuiltInDefault ? "txonly+io" : ForwardModes.Name(Engine.Streams[0].Mode);
        new RunSummary(mode, forwardedSeconds, [.. Engine.ForwardingLcores], options.Burst, Pool.Region.Backing.ToString(), results).Write(path);
    }

    public void SetForwardMode(ForwardMode mode)
    {
        foreach (var s in Engine.Streams)
        {
            s.Mode = mode;
        }
    }

    public void ClearStats()
    {
        foreach (var p in ports)
        {
            p.ResetStats();
            output.WriteLine(I($"\n  NIC statistics for port {p.PortId} cleared"));
        }
    }

    public void PrintInfo()
    {
        foreach (var p in ports)
        {
            printer.PrintInfo(p);
        }
    }

    public void PrintXStats()
    {
        foreach (var p in ports)
        {
            printer.PrintXStats(p);
        }
    }

    public void Dispose()
    {
        if (engine?.IsRunning == true)
        {
            engine.Stop();
        }

        runtime.Dispose(); // closes ports first: rings give their mbufs back to the pool
        pool?.Dispose();
    }

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static MacAddress DefaultPeer(int port) => TestPmdDefaults.PeerMac((byte)port);

    private void ConfigurePort(EthDev port)
    {
        output.WriteLine(I($"Configuring Port {port.PortId} (socket 0)"));
        port.Configure(options.RxQueues, options.TxQueues);
        for (int q = 0; q < options.RxQueues; q++)
        {
            port.SetupRxQueue(q, options.RxDescriptors, Pool);
        }

        for (int q = 0; q < options.TxQueues; q++)
        {
            port.SetupTxQueue(q, options.TxDescriptors);
        }

        port.Start();
        try
        {
            port.EnablePromiscuous(); // testpmd's default
        }
        catch (EthDevNotSupportedException)
        {
            output.WriteLine(I($"Port {port.PortId}: promiscuous mode not supported"));
        }

        output.WriteLine(I($"Port {port.PortId}: {port.MacAddress}"));
    }

    private List<FwdStream> BuildStreams()
    {
        var streams = new List<FwdStream>();
        if (options.BuiltInDefault)
        {
            // Port 0 generates and drains what comes back; port 1 sends everything back (io, loop).
            streams.Add(new FwdStream(ports[0], 0, ports[0], 0, ForwardMode.Generator, Peer(1)));
            streams.Add(new FwdStream(ports[1], 0, ports[1], 0, ForwardMode.Io, Peer(0)));
            return streams;
        }

        int n = ports.Count;
        for (int i = 0; i < n; i++)
        {
            int peer = options.PortTopology switch
            {
                PortTopology.Loop => i,
                PortTopology.Chained => (i + 1) % n,
                _ => (i ^ 1) < n ? i ^ 1 : i,
            };
            for (int q = 0; q < options.RxQueues; q++)
            {
                streams.Add(new FwdStream(ports[i], q, ports[peer], q, options.ForwardMode, Peer(peer)));
            }
        }

        return streams;
    }

    private MacAddress Peer(int port) => options.EthPeers.TryGetValue(port, out var mac) ? mac : DefaultPeer(port);

    private void PrintForwardingConfig()
    {
        var e = Engine;
        string mode = options.BuiltInDefault ? "txonly (port 0) + io (port 1)" : ForwardModes.Name(e.Streams[0].Mode);
        var assignment = e.Assignment();
        output.WriteLine(I($"{mode} packet forwarding - ports={ports.Count} - cores={assignment.Count} - streams={e.Streams.Count} - burst={options.Burst}"));
        for (int i = 0; i < assignment.Count; i++)
        {
            output.WriteLine(I($"Logical Core {e.ForwardingLcores[i]} (socket 0) forwards packets on {assignment[i].Count} streams:"));
            foreach (var s in assignment[i])
            {
                output.WriteLine(I($"  RX P={s.RxPort.PortId}/Q={s.RxQueue} (socket 0) -> TX P={s.TxPort.PortId}/Q={s.TxQueue} (socket 0) peer={s.PeerMac}"));
            }
        }

        if (e.Streams.Any(s => s.Mode is ForwardMode.TxOnly or ForwardMode.FlowGen or ForwardMode.Generator))
        {
            output.WriteLine(I($"  packet len={e.TxPacketLength} - nb packet segments={options.TxPackets.Count}"));
        }

        output.WriteLine(I($"  nb forwarding cores={assignment.Count} - nb forwarding ports={ports.Count}"));
        output.Flush();
    }
}
