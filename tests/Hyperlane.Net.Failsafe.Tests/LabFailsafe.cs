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
    public static TimeSpan WaitUntil(Func<bool> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? Timeout;
        while (!condition())
        {
            if (sw.Elapsed > limit)
            {
                Assert.Fail($"not within {limit.TotalSeconds:0.#} s: {what()}");
            }

            Thread.Sleep(2);
        }

        return sw.Elapsed;
    }

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

/// <summary>The frames the lab transmits: IPv4/UDP to port 4789+1, with a magic, a sequence number and the Stopwatch time of the TxBurst call.</summary>
internal static class LabFrames
{
    public const int Length = 96;
    public const ushort DstPort = 4790;
    public const uint Magic = 0x484C4653; // "HLFS"
    public static readonly MacAddress SrcMac = MacAddress.Parse("02:00:00:ee:00:01");

    /// <summary>No interface has it: the kernel takes the frames as PACKET_OTHERHOST and drops them after the packet sockets saw them.</summary>
    public static readonly MacAddress DstMac = MacAddress.Parse("02:00:00:ee:ee:ee");

    public static void Build(Span<byte> frame, ushort srcPort, long seq, long timestamp)
    {
        PacketBuilder.Udp4(frame, SrcMac, DstMac, PacketBuilder.Ip(198, 18, 1, 1), PacketBuilder.Ip(198, 18, 1, 2), srcPort, DstPort, frame.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[42..], Magic);
        BinaryPrimitives.WriteInt64BigEndian(frame[46..], seq);
        BinaryPrimitives.WriteInt64BigEndian(frame[54..], timestamp);
    }

    public static byte[] Make(ushort srcPort, long seq = 0)
    {
        var f = new byte[Length];
        Build(f, srcPort, seq, Stopwatch.GetTimestamp());
        return f;
    }

    public static bool TryParse(ReadOnlySpan<byte> frame, out ushort srcPort, out long seq, out long timestamp)
    {
        srcPort = 0;
        seq = timestamp = 0;
        if (frame.Length < 62 || frame[12] != 0x08 || frame[13] != 0x00 || frame[23] != 17
            || BinaryPrimitives.ReadUInt16BigEndian(frame[36..]) != DstPort || BinaryPrimitives.ReadUInt32BigEndian(frame[42..]) != Magic)
        {
            return false;
        }

        srcPort = BinaryPrimitives.ReadUInt16BigEndian(frame[34..]);
        seq = BinaryPrimitives.ReadInt64BigEndian(frame[46..]);
        timestamp = BinaryPrimitives.ReadInt64BigEndian(frame[54..]);
        return true;
    }

    public static double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>One lab frame seen by a <see cref="FrameSink"/>: when it was read (Stopwatch), its sequence number and when it was sent.</summary>
internal readonly record struct SeenFrame(long RxTimestamp, long Seq, long TxTimestamp, ushort SrcPort);

/// <summary>
/// A thread reading a <see cref="KernelPort"/> and recording every lab frame with the <see cref="Stopwatch"/>
/// time <see cref="KernelPort.ReceiveTimed"/> read it at (the same clock the Tx thread stamps frames with).
/// A socket error (ENETDOWN when the interface goes down or is deleted) is counted and reading goes on: what
/// was queued before it is still read.
/// </summary>
internal sealed class FrameSink : IDisposable
{
    private readonly KernelPort port;
    private readonly Thread thread;
    private readonly List<SeenFrame> frames = [];
    private volatile bool stop;
    private long idleAt;
    private int errors;
    private int disposed;

    public FrameSink(KernelPort port)
    {
        this.port = port;
        thread = new Thread(Loop) { IsBackground = true, Name = "sink-" + port.InterfaceName };
        thread.Start();
    }

    public string InterfaceName => port.InterfaceName;

    public int Errors => Volatile.Read(ref errors);

    public int Count
    {
        get
        {
            lock (frames)
            {
                return frames.Count;
            }
        }
    }

    /// <summary>The last time a read found the socket empty: everything that arrived before it has been recorded.</summary>
    public long IdleAt => Interlocked.Read(ref idleAt);

    public SeenFrame? Last
    {
        get
        {
            lock (frames)
            {
                return frames.Count > 0 ? frames[^1] : null;
            }
        }
    }

    /// <summary>The first frame read after <paramref name="timestamp"/> with a sequence number above <paramref name="afterSeq"/>.</summary>
    public SeenFrame? FirstAfter(long timestamp, long afterSeq = long.MinValue)
    {
        lock (frames)
        {
            foreach (var f in frames)
            {
                if (f.RxTimestamp > timestamp && f.Seq > afterSeq)
                {
                    return f;
                }
            }

            return null;
        }
    }

    /// <summary>Frames read after <paramref name="timestamp"/>.</summary>
    public int CountAfter(long timestamp)
    {
        lock (frames)
        {
            return frames.Count(f => f.RxTimestamp > timestamp);
        }
    }

    /// <summary>Waits until everything that arrived up to now has been read.</summary>
    public void Settle()
    {
        long now = Stopwatch.GetTimestamp();
        LabFailsafe.WaitUntil(() => IdleAt > now, () => $"the reader on {InterfaceName} never found its socket empty");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stop = true;
        thread.Join();
        port.Dispose();
    }

    private void Loop()
    {
        while (!stop)
        {
            try
            {
                var r = port.ReceiveTimed(TimeSpan.FromMilliseconds(20));
                if (r is not { } got)
                {
                    Interlocked.Exchange(ref idleAt, Stopwatch.GetTimestamp());
                    continue;
                }

                if (LabFrames.TryParse(got.Frame, out ushort sport, out long seq, out long ts))
                {
                    lock (frames)
                    {
                        frames.Add(new SeenFrame(got.Timestamp, seq, ts, sport));
                    }
                }
            }
            catch (LinuxException)
            {
                Interlocked.Increment(ref errors); // ENETDOWN once when the interface goes down; queued frames still come
            }
        }
    }
}

/// <summary>
/// A thread that allocates lab frames from the pool and transmits them on queue 0 of a port, a burst of 16
/// about every millisecond, freeing what the port did not take. Counts what was taken.
/// </summary>
internal sealed class TxTraffic : IDisposable
{
    public const int Burst = 16;
    private readonly EthDev port;
    private readonly Mempool pool;
    private readonly Thread thread;
    private volatile bool stop;
    private long taken;
    private long offered;
    private Exception? failure;
    private int disposed;

    public TxTraffic(EthDev port, Mempool pool, ushort srcPort = 7000)
    {
        this.port = port;
        this.pool = pool;
        SrcPort = srcPort;
        thread = new Thread(Loop) { IsBackground = true, Name = "tx-" + port.Name };
        thread.Start();
    }

    public ushort SrcPort { get; }

    /// <summary>Packets the port took (TxBurst's return values added up).</summary>
    public long Taken => Interlocked.Read(ref taken);

    public long Offered => Interlocked.Read(ref offered);

    /// <summary>Stops the thread; rethrows what it threw.</summary>
    public void Stop()
    {
        stop = true;
        thread.Join();
        if (failure is { } ex)
        {
            throw new InvalidOperationException("the Tx thread failed: " + ex.Message, ex);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            stop = true;
            thread.Join();
        }
    }

    private void Loop()
    {
        try
        {
            long seq = 0;
            var burst = new Mbuf[Burst];
            while (!stop)
            {
                if (pool.AllocBulk(burst) == 0)
                {
                    Thread.Sleep(1);
                    continue;
                }

                foreach (var m in burst)
                {
                    if (!m.TryAppend(LabFrames.Length, out Span<byte> data))
                    {
                        throw new InvalidOperationException("an mbuf without room for a lab frame");
                    }

                    LabFrames.Build(data, SrcPort, seq++, Stopwatch.GetTimestamp());
                }

                int n = port.TxBurst(0, burst);
                Interlocked.Add(ref taken, n);
                Interlocked.Add(ref offered, Burst);
                if (n < Burst)
                {
                    Mbuf.FreeBulk(burst.AsSpan(n));
                }

                Thread.Sleep(1);
            }
        }
        catch (Exception ex)
        {
            failure = ex;
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

/// <summary>Keeps the runtime's log lines (with the time since the lab started) to print after the test.</summary>
internal sealed class LabLog : ILoggerFactory
{
    private const int MaxLines = 20_000;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly long start = Stopwatch.GetTimestamp();

    public IEnumerable<string> Tail(int count) => lines.Skip(Math.Max(0, lines.Count - count));

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lines.Enqueue(line);
        while (lines.Count > MaxLines && lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(LabLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            double ms = LabFrames.Ms(Stopwatch.GetTimestamp() - log.start);
            string text = string.Create(CultureInfo.InvariantCulture, $"{ms,9:0.0} ms {logLevel,-11} {category}: {formatter(state, exception)}");
            if (exception is not null)
            {
                text += " | " + exception.GetType().Name + ": " + exception.Message;
            }

            log.Add(text);
        }
    }
}
