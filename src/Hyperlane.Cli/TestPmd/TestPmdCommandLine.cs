using System.CommandLine;
using System.Globalization;
using Hyperlane.Core.Runtime;
using Hyperlane.Packets;

namespace Hyperlane.Cli.TestPmd;

/// <summary>
/// Parses testpmd's command line as DPDK users write it: EAL options, then <c>--</c>, then application
/// options (<c>-l 0-1 --vdev net_null0 -- --forward-mode=io --auto-start</c>).
/// </summary>
public static class TestPmdCommandLine
{
    private static readonly string[] IgnoredFlags = ["--no-pci", "--in-memory", "--no-huge", "--single-file-segments", "--no-telemetry", "--no-shconf"];
    private static readonly string[] IgnoredValued = ["--file-prefix", "-m", "--huge-dir", "--socket-mem", "-n", "--proc-type", "--iova-mode"];

    /// <summary>Parses <paramref name="args"/> (everything after the word "testpmd"); throws <see cref="CommandLineException"/>.</summary>
    public static TestPmdOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int split = -1;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                split = i;
                break;
            }
        }

        var eal = split < 0 ? args : args.Take(split).ToList();
        var app = split < 0 ? [] : args.Skip(split + 1).ToList();
        var options = ParseEal(eal);
        options = ParseApp(app, options);
        if (args.Count == 0)
        {
            options = options with { BuiltInDefault = true, StatsPeriod = 1, AutoStart = true };
        }

        return Validate(options);
    }

    /// <summary>Help text for both halves of the command line.</summary>
    public static string Help()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        sw.WriteLine("usage: hyperlane testpmd [EAL options] -- [testpmd options]");
        sw.WriteLine();
        sw.WriteLine("With no arguments: a linked net_ring pair, port 0 generating (txonly) and port 1");
        sw.WriteLine("forwarding it back (io), stats every second, until Ctrl-C. Needs no root and no hardware.");
        sw.WriteLine();
        sw.WriteLine("EAL options:");
        foreach (var o in EalCommand().Options)
        {
            sw.WriteLine($"  {Names(o),-28} {o.Description}");
        }

        sw.WriteLine($"  {"(accepted, ignored)",-28} {string.Join(' ', IgnoredFlags.Concat(IgnoredValued))}");
        sw.WriteLine();
        sw.WriteLine("testpmd options:");
        foreach (var o in AppCommand().Options)
        {
            sw.WriteLine($"  {Names(o),-28} {o.Description}");
        }

        return sw.ToString();

        static string Names(Option o) => string.Join(", ", o.Aliases.Prepend(o.Name).Distinct().OrderBy(n => n.Length));
    }

    private static TestPmdOptions ParseEal(IReadOnlyList<string> args)
    {
        // Strip DPDK flags that mean nothing here, remembering them for the start-up note.
        var kept = new List<string>();
        var ignored = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string name = a.Split('=', 2)[0];
            if (IgnoredFlags.Contains(a))
            {
                ignored.Add(a);
            }
            else if (IgnoredValued.Contains(name))
            {
                if (!a.Contains('=', StringComparison.Ordinal))
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new CommandLineException($"EAL option {a} needs a value");
                    }

                    a += " " + args[++i];
                }

                ignored.Add(a);
            }
            else
            {
                kept.Add(a);
            }
        }

        var cmd = EalCommand();
        var result = cmd.Parse(kept);
        ThrowOnErrors(result, "EAL");
        var lcoresText = result.GetValue<string>("-l");
        IReadOnlyList<int> lcores;
        try
        {
            lcores = lcoresText is null ? [] : LcoreList.Parse(lcoresText);
        }
        catch (FormatException ex)
        {
            throw new CommandLineException($"-l: {ex.Message}");
        }

        return new TestPmdOptions
        {
            Lcores = lcores,
            MainLcore = result.GetValue<int?>("--main-lcore"),
            Vdevs = result.GetValue<string[]>("--vdev") ?? [],
            Allow = result.GetValue<string[]>("-a") ?? [],
            LogLevels = result.GetValue<string[]>("--log-level") ?? [],
            IgnoredEalFlags = ignored,
        };
    }

    private static TestPmdOptions ParseApp(IReadOnlyList<string> args, TestPmdOptions o)
    {
        var cmd = AppCommand();
        var r = cmd.Parse(args);
        ThrowOnErrors(r, "testpmd");

        var mode = o.ForwardMode;
        if (r.GetValue<string>("--forward-mode") is { } modeText)
        {
            if (!ForwardModes.TryParse(modeText, out mode))
            {
                throw new CommandLineException($"--forward-mode: unknown mode '{modeText}' (valid: {string.Join(", ", ForwardModes.Names)})");
            }
        }

        var topology = o.PortTopology;
        if (r.GetValue<string>("--port-topology") is { } topo)
        {
            topology = topo switch
            {
                "paired" => PortTopology.Paired,
                "chained" => PortTopology.Chained,
                "loop" => PortTopology.Loop,
                _ => throw new CommandLineException($"--port-topology: unknown topology '{topo}' (valid: paired, chained, loop)"),
            };
        }

        IReadOnlyList<int> txpkts = o.TxPackets;
        if (r.GetValue<string>("--txpkts") is { } tp)
        {
            txpkts = ParseTxPkts(tp);
        }

        var peers = new Dictionary<int, MacAddress>();
        foreach (var p in r.GetValue<string[]>("--eth-peer") ?? [])
        {
            var parts = p.Split(',', 2);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || !MacAddress.TryParse(parts[1], out var mac))
            {
                throw new CommandLineException($"--eth-peer: '{p}' is not <port>,<MAC> (e.g. 0,02:00:00:00:00:01)");
            }

            peers[port] = mac;
        }

        return o with
        {
            ForwardMode = mode,
            PortTopology = topology,
            TxPackets = txpkts,
            EthPeers = peers,
            NbCores = r.GetValue<int?>("--nb-cores") ?? o.NbCores,
            RxQueues = r.GetValue<int?>("--rxq") ?? o.RxQueues,
            TxQueues = r.GetValue<int?>("--txq") ?? o.TxQueues,
            RxDescriptors = r.GetValue<int?>("--rxd") ?? o.RxDescriptors,
            TxDescriptors = r.GetValue<int?>("--txd") ?? o.TxDescriptors,
            Burst = r.GetValue<int?>("--burst") ?? o.Burst,
            MbufSize = r.GetValue<int?>("--mbuf-size") ?? o.MbufSize,
            TotalNumMbufs = r.GetValue<int?>("--total-num-mbufs") ?? o.TotalNumMbufs,
            TxFirst = r.GetValue<bool>("--tx-first"),
            StatsPeriod = r.GetValue<int?>("--stats-period") ?? o.StatsPeriod,
            AutoStart = r.GetValue<bool>("--auto-start"),
            Interactive = r.GetValue<bool>("-i"),
            Duration = r.GetValue<double?>("--duration"),
            SummaryJson = r.GetValue<string>("--summary-json"),
        };
    }

    private static TestPmdOptions Validate(TestPmdOptions o)
    {
        Range("--nb-cores", o.NbCores, 1, Memory.LcoreId.MaxLcores);
        Range("--rxq", o.RxQueues, 1, 1024);
        Range("--txq", o.TxQueues, 1, 1024);
        Range("--rxd", o.RxDescriptors, 1, 65536);
        Range("--txd", o.TxDescriptors, 1, 65536);
        Range("--burst", o.Burst, 1, 512);
        Range("--mbuf-size", o.MbufSize, 128 + 64, ushort.MaxValue);
        Range("--stats-period", o.StatsPeriod, 0, 3600);
        if (o.TotalNumMbufs is { } total)
        {
            Range("--total-num-mbufs", total, 1024, 1 << 24);
        }

        if (o.Duration is { } d && (d <= 0 || d > 86400 || double.IsNaN(d)))
        {
            throw new CommandLineException($"--duration: {d.ToString(CultureInfo.InvariantCulture)} is not a number of seconds in (0, 86400]");
        }

        if (o.TxQueues < o.RxQueues)
        {
            throw new CommandLineException($"--txq {o.TxQueues} is less than --rxq {o.RxQueues}: each Rx queue's stream needs its own Tx queue");
        }

        int seg = o.MbufSize - 128;
        foreach (int len in o.TxPackets)
        {
            if (len > seg)
            {
                throw new CommandLineException($"--txpkts: segment of {len} bytes does not fit an mbuf of --mbuf-size {o.MbufSize} ({seg} bytes after headroom)");
            }
        }

        if (o.Interactive && o.Duration is not null)
        {
            throw new CommandLineException("--duration cannot be combined with -i/--interactive");
        }

        return o;

        static void Range(string name, int v, int lo, int hi)
        {
            if (v < lo || v > hi)
            {
                throw new CommandLineException($"{name}: {v} out of range {lo}..{hi}");
            }
        }
    }

    private static int[] ParseTxPkts(string text)
    {
        var parts = text.Split(',');
        var lens = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out lens[i]) || lens[i] < 1)
            {
                throw new CommandLineException($"--txpkts: '{parts[i]}' is not a segment length (e.g. --txpkts=64 or --txpkts=64,64)");
            }
        }

        if (lens.Length > 8)
        {
            throw new CommandLineException($"--txpkts: {lens.Length} segments, at most 8");
        }

        int total = lens.Sum();
        if (total < 42 || total > 9216)
        {
            throw new CommandLineException($"--txpkts: total packet length {total} out of range 42..9216 (Ethernet + IPv4 + UDP headers need 42)");
        }

        return lens;
    }

    private static void ThrowOnErrors(ParseResult result, string part)
    {
        if (result.Errors.Count > 0)
        {
            throw new CommandLineException($"{part} options: {result.Errors[0].Message.TrimEnd('.')} (see hyperlane testpmd --help)");
        }
    }

    private static Command EalCommand() => new("eal")
    {
        new Option<string>("-l", "--lcores") { Description = "lcore list, e.g. 0-1 (first is the main lcore)" },
        new Option<int?>("--main-lcore") { Description = "main lcore id (default: the first of -l)" },
        new Option<string[]>("--vdev") { Description = "add a virtual device, e.g. net_null0,size=64 (repeatable)", AllowMultipleArgumentsPerToken = false },
        new Option<string[]>("-a", "--allow") { Description = "allow a bus device (repeatable; only vdevs exist so far)", AllowMultipleArgumentsPerToken = false },
        new Option<string[]>("--log-level") { Description = "log level: a level (debug, info, notice, warning, error) or 1-8, optionally pattern:level", AllowMultipleArgumentsPerToken = false },
    };

    private static Command AppCommand() => new("testpmd")
    {
        new Option<string>("--forward-mode") { Description = "io, mac, macswap, rxonly, txonly, flowgen, icmpecho (default io)" },
        new Option<int?>("--nb-cores") { Description = "forwarding cores (default 1)" },
        new Option<int?>("--rxq") { Description = "Rx queues per port (default 1)" },
        new Option<int?>("--txq") { Description = "Tx queues per port (default 1)" },
        new Option<int?>("--rxd") { Description = "Rx descriptors per queue (default 512)" },
        new Option<int?>("--txd") { Description = "Tx descriptors per queue (default 512)" },
        new Option<int?>("--burst") { Description = "packets per burst (default 32)" },
        new Option<string>("--txpkts") { Description = "segment lengths of generated packets, e.g. 64 or 64,64 (default 64)" },
        new Option<int?>("--mbuf-size") { Description = "mbuf data room incl. 128 B headroom (default 2176)" },
        new Option<int?>("--total-num-mbufs") { Description = "mbufs in the pool (default: sized from ports, queues and descriptors)" },
        new Option<string>("--port-topology") { Description = "paired, chained or loop (default paired)" },
        new Option<string[]>("--eth-peer") { Description = "N,MAC: peer MAC of port N for mac mode (repeatable)", AllowMultipleArgumentsPerToken = false },
        new Option<bool>("--tx-first") { Description = "send a burst on each stream before forwarding" },
        new Option<int?>("--stats-period") { Description = "print port stats every N seconds" },
        new Option<bool>("--auto-start", "-a") { Description = "start forwarding at once (the default unless -i)" },
        new Option<bool>("-i", "--interactive") { Description = "interactive prompt (start, stop, show port stats all, set fwd, quit...)" },
        new Option<double?>("--duration") { Description = "stop after N seconds, print final stats and exit 0" },
        new Option<string>("--summary-json") { Description = "write final per-port packets, bytes, drops and Mpps to this JSON file" },
    };
}
