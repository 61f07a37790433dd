using System.Globalization;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.VirtioUser;

/// <summary>
/// The port behind <see cref="VirtioUserDriver"/>. It connects when it starts: the memory table it sends holds the
/// mempools of its Rx queues and every other shareable packet pool of the process (what the application may
/// transmit from), as DPDK's virtio_user shares all of DPDK's memory. Stop disconnects (the backend stops the rings
/// first: SET_VRING_ENABLE 0, GET_VRING_BASE); start connects again.
/// </summary>
/// <remarks>
/// When the backend goes away the link goes down (a link-status event), the rings are reset and bursts return 0.
/// In server mode the frontend takes the backend back when it connects again; in client mode the port reconnects
/// by itself, retrying every half second (DPDK's virtio_user needs server=1 for that). The link comes up again with
/// another event.
/// </remarks>
public sealed partial class VirtioUserEthDev : EthDev
{
    /// <summary>Receive rings use the first pool; the ring area takes one region: 7 pool regions at most.</summary>
    private const int MaxPoolRegions = 7;

    private static readonly TimeSpan ReconnectAttempt = TimeSpan.FromMilliseconds(500);

    /// <summary>DPDK's virtio names for its per-queue packet class counters (no unicast counter).</summary>
    private static readonly string?[] ClassNames =
    [
        "multicast_packets", "broadcast_packets", null, "undersize_packets", "size_64_packets",
        "size_65_127_packets", "size_128_255_packets", "size_256_511_packets", "size_512_1023_packets",
        "size_1024_1518_packets", "size_1519_max_packets",
    ];

    private readonly VhostUserFrontendOptions template;
    private readonly uint speed;
    private readonly ILogger logger;
    private readonly List<VirtioUserRxQueue> rxQueues = [];
    private readonly List<VirtioUserTxQueue> txQueues = [];
    private readonly Lock reconnectLock = new();
    private VhostUserFrontend? frontend;
    private ManualResetEventSlim? stopReconnect;
    private Thread? reconnectThread;
    private long linkChanges;
    private long reconnects;
    private readonly XStatBaseline xstatBaseline = new();

    /// <summary>Ring counters of the frontends of earlier starts, so the xstats keep growing across stop/start.</summary>
    private readonly Dictionary<string, long> carried = [];

    internal VirtioUserEthDev(string name, VhostUserFrontendOptions options, MacAddress mac, uint speed, ILogger logger)
        : base(name, VirtioUserDriver.DriverName, mac)
    {
        template = options;
        this.speed = speed;
        this.logger = logger;
    }

    /// <summary>The frontend while the port is started (features negotiated, connection count...), else null.</summary>
    public VhostUserFrontend? Frontend => Volatile.Read(ref frontend);

    /// <summary>The options the frontend connects with (devargs).</summary>
    public VhostUserFrontendOptions Options => template;

    protected override EthDevInfo GetInfo() => new()
    {
        DriverName = VirtioUserDriver.DriverName,
        MaxRxQueues = template.QueuePairs,
        MaxTxQueues = template.QueuePairs,
        MinRxDescriptors = 1,
        MaxRxDescriptors = 32768,
        MinTxDescriptors = 1,
        MaxTxDescriptors = 32768,
        DefaultRxDescriptors = template.QueueSize,
        DefaultTxDescriptors = template.QueueSize,
        MaxRxPacketLength = 9728,
        MaxMtu = 9728 - 14 - 4 - 12,
        MaxTxSegments = Mbuf.MaxSegments,
        RxOffloadCapabilities = RxOffloads.Scatter,
        TxOffloadCapabilities = TxOffloads.MultiSegments,
        SpeedCapabilities = [speed],
        SupportsLinkStatusEvents = true,
        RequiresShareableMempool = true,
    };

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
        // The base releases the old queues after this returns: forget them here, so xstats list only the new ones.
        this.rxQueues.Clear();
        this.txQueues.Clear();
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        if (!pool.Region.IsShareable)
        {
            throw new ArgumentException($"mempool '{pool.Name}' is not shareable: virtio_user shares packet memory with the vhost-user backend by memfd, so create the pool with RegionOptions {{ Shareable = true }} (hugetlb pools always are)");
        }

        var q = new VirtioUserRxQueue(queueId, descriptors, pool);
        rxQueues.RemoveAll(r => r.QueueId == queueId);
        rxQueues.Add(q);
        return q;
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        var q = new VirtioUserTxQueue(queueId, descriptors);
        txQueues.RemoveAll(t => t.QueueId == queueId);
        txQueues.Add(q);
        return q;
    }

    protected override void OnStart()
    {
        var rx = rxQueues.OrderBy(q => q.QueueId).ToList();
        if (rx.Count == 0)
        {
            throw new ArgumentException("virtio_user needs at least one Rx queue: its receive rings are filled from that queue's mempool");
        }

        if (RxQueueCount != TxQueueCount)
        {
            // A virtio-net queue pair has both rings: a receive ring nobody polls would hold mbufs and strand what
            // the backend sends there.
            throw new ArgumentException($"virtio_user needs as many Rx as Tx queues (queue pairs), not {RxQueueCount} Rx and {TxQueueCount} Tx");
        }

        int pairs = RxQueueCount;
        var rxPools = new Mempool[pairs];
        for (int i = 0; i < pairs; i++)
        {
            rxPools[i] = rx[i].Pool;
        }

        var regions = rxPools.Select(p => p.Region).Distinct().ToList();
        var txPools = new List<Mempool>();
        var left = new List<string>();
        foreach (Mempool pool in Mempool.Snapshot())
        {
            if (!pool.IsPacketPool || !pool.Region.IsShareable || regions.Contains(pool.Region))
            {
                continue;
            }

            if (regions.Count >= MaxPoolRegions)
            {
                left.Add(pool.Name);
                continue;
            }

            regions.Add(pool.Region);
            txPools.Add(pool);
        }

        if (left.Count > 0)
        {
            LogPoolsLeftOut(logger, Name, string.Join(", ", left), MaxPoolRegions);
        }

        var options = template with { QueuePairs = pairs, Port = PortId };
        VhostUserFrontend fe;
        try
        {
            fe = VhostUserFrontend.Connect(options, rxPools, [.. txPools]);
        }
        catch (VhostUserFrontendException ex)
        {
            throw new IOException($"vhost-user backend on {template.Path}: {ex.Message}", ex);
        }

        fe.Disconnected += OnDisconnected;
        fe.Reconnected += OnReconnected;
        foreach (var q in rx)
        {
            q.Attach(fe.RxQueue(q.QueueId));
        }

        foreach (var q in txQueues)
        {
            q.Attach(fe.TxQueue(q.QueueId));
        }

        stopReconnect = new ManualResetEventSlim(false);
        Volatile.Write(ref frontend, fe);
        Interlocked.Increment(ref linkChanges);
        LogConnected(logger, Name, template.Path, fe.NegotiatedFeatures, fe.IsPacked ? "packed" : "split", string.Join(", ", rxPools.Concat(txPools).Distinct().Select(p => p.Name)));
        RaiseEvent(EthDevEventType.LinkStatusChange, "up: connected to the vhost-user backend");
    }

    protected override void OnStop() => Disconnect();

    protected override void OnClose() => Disconnect();

    protected override LinkStatus OnGetLink() => Volatile.Read(ref frontend) is { IsConnected: true } ? LinkStatus.Up(speed) : LinkStatus.Down;

    protected override void OnResetStats() => xstatBaseline.Capture(RawXStats());

    protected override void OnAddXStats(List<XStat> xstats)
    {
        xstatBaseline.AddSince(xstats, RawXStats());

        foreach (var q in rxQueues.OrderBy(q => q.QueueId))
        {
            xstats.Add(new(I($"rx_q{q.QueueId}_in_flight"), q.Driver?.InFlight ?? 0)); // a gauge: never reset
        }

        foreach (var q in txQueues.OrderBy(q => q.QueueId))
        {
            xstats.Add(new(I($"tx_q{q.QueueId}_in_flight"), q.Driver?.InFlight ?? 0));
        }
    }

    /// <summary>The driver's counters as they grew since probe (<see cref="OnAddXStats"/> subtracts the last reset).</summary>
    private List<XStat> RawXStats()
    {
        var xstats = new List<XStat>();
        foreach (var q in rxQueues.OrderBy(q => q.QueueId))
        {
            q.Classes.AddTo(xstats, I($"rx_q{q.QueueId}_"), ClassNames);
        }

        foreach (var q in txQueues.OrderBy(q => q.QueueId))
        {
            q.Classes.AddTo(xstats, I($"tx_q{q.QueueId}_"), ClassNames);
        }

        foreach (XStat x in FrontendXStats(Volatile.Read(ref frontend)))
        {
            xstats.Add(x with { Value = x.Value + carried.GetValueOrDefault(x.Name) });
        }

        xstats.Add(new("virtio_user_reconnects", Interlocked.Read(ref reconnects)));
        xstats.Add(new("virtio_user_link_changes", Interlocked.Read(ref linkChanges)));
        return xstats;
    }

    /// <summary>The counters of one frontend (one start of the port): its rings' and its connections.</summary>
    private List<XStat> FrontendXStats(VhostUserFrontend? fe)
    {
        var xstats = new List<XStat>();
        foreach (var q in rxQueues.OrderBy(q => q.QueueId))
        {
            AddRing(xstats, I($"rx_q{q.QueueId}_"), fe is null ? null : q.Driver);
        }

        foreach (var q in txQueues.OrderBy(q => q.QueueId))
        {
            AddRing(xstats, I($"tx_q{q.QueueId}_"), fe is null ? null : q.Driver);
        }

        xstats.Add(new("virtio_user_connections", fe?.ConnectionCount ?? 0));
        return xstats;
    }

    private static void AddRing(List<XStat> xstats, string prefix, IVirtioDriverQueue? d)
    {
        VirtioDriverQueueStats? s = d?.Stats;
        xstats.Add(new(prefix + "ring_faults", s is null ? 0 : Volatile.Read(ref s.Faults)));
        xstats.Add(new(prefix + "ring_dropped", s is null ? 0 : Volatile.Read(ref s.Dropped)));
        xstats.Add(new(prefix + "ring_broken", s is null ? 0 : Volatile.Read(ref s.Broken)));
        xstats.Add(new(prefix + "kicks", s is null ? 0 : Volatile.Read(ref s.Kicks)));
    }

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Stops reconnecting, then disconnects (the bursts were already taken off the queues).</summary>
    private void Disconnect()
    {
        Thread? t;
        lock (reconnectLock)
        {
            stopReconnect?.Set();
            t = reconnectThread;
            reconnectThread = null;
        }

        t?.Join();
        VhostUserFrontend? current = Volatile.Read(ref frontend);
        if (current is not null)
        {
            foreach (XStat x in FrontendXStats(current))
            {
                carried[x.Name] = carried.GetValueOrDefault(x.Name) + x.Value;
            }
        }

        VhostUserFrontend? fe = Interlocked.Exchange(ref frontend, null);
        foreach (var q in rxQueues)
        {
            q.Attach(null);
        }

        foreach (var q in txQueues)
        {
            q.Attach(null);
        }

        if (fe is not null)
        {
            fe.Disconnected -= OnDisconnected;
            fe.Reconnected -= OnReconnected;
            bool wasUp = fe.IsConnected;
            fe.Dispose();
            if (wasUp)
            {
                Interlocked.Increment(ref linkChanges);
                RaiseEvent(EthDevEventType.LinkStatusChange, "down: the port stopped");
            }
        }

        stopReconnect?.Dispose();
        stopReconnect = null;
    }

    private void OnDisconnected(object? sender, VhostUserDisconnectedEventArgs e)
    {
        Interlocked.Increment(ref linkChanges);
        LogDisconnected(logger, Name, e.Reason, e.WillReconnect ? "waiting for the backend to connect again" : "reconnecting");
        RaiseEvent(EthDevEventType.LinkStatusChange, $"down: {e.Reason}");
        if (!e.WillReconnect && sender is VhostUserFrontend fe)
        {
            lock (reconnectLock)
            {
                if (reconnectThread is null && stopReconnect is { IsSet: false } stop)
                {
                    reconnectThread = new Thread(() => ReconnectLoop(fe, stop)) { IsBackground = true, Name = Name + " reconnect" };
                    reconnectThread.Start();
                }
            }
        }
    }

    private void OnReconnected(object? sender, EventArgs e)
    {
        Interlocked.Increment(ref linkChanges);
        Interlocked.Increment(ref reconnects);
        LogReconnected(logger, Name, template.Path);
        RaiseEvent(EthDevEventType.LinkStatusChange, "up: reconnected to the vhost-user backend");
    }

    /// <summary>Client mode: tries to connect again until it works or the port stops.</summary>
    private void ReconnectLoop(VhostUserFrontend fe, ManualResetEventSlim stop)
    {
        while (!stop.IsSet)
        {
            try
            {
                fe.Reconnect(ReconnectAttempt);
                break;
            }
            catch (TimeoutException ex)
            {
                LogReconnectWaiting(logger, Name, ex.Message); // usually nobody listens yet; a setup that timed out also lands here
            }
            catch (Exception ex) when (ex is VhostUserFrontendException or LinuxException or InvalidOperationException or ObjectDisposedException or IOException)
            {
                LogReconnectFailed(logger, Name, ex.Message);
                if (stop.Wait(ReconnectAttempt))
                {
                    break;
                }
            }
        }

        lock (reconnectLock)
        {
            if (reconnectThread == Thread.CurrentThread)
            {
                reconnectThread = null;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: connected to {Path}, features 0x{Features:X} ({Ring} rings), shared pools: {Pools}")]
    private static partial void LogConnected(ILogger logger, string port, string path, ulong features, string ring, string pools);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: pools {Pools} are not shared with the backend (a vhost-user memory table holds {Max} pools besides the rings): packets sent from them are dropped and counted")]
    private static partial void LogPoolsLeftOut(ILogger logger, string port, string pools, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: link down, {Reason}; {Next}")]
    private static partial void LogDisconnected(ILogger logger, string port, string reason, string next);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: link up again, reconnected to {Path}")]
    private static partial void LogReconnected(ILogger logger, string port, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Port}: not reconnected yet: {Reason}; retrying")]
    private static partial void LogReconnectWaiting(ILogger logger, string port, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: reconnection failed: {Reason}; retrying")]
    private static partial void LogReconnectFailed(ILogger logger, string port, string reason);
}
