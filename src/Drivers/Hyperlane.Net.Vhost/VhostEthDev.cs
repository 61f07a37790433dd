using System.Globalization;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Session;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.Vhost;

/// <summary>
/// The port behind <see cref="VhostDriver"/>. Rx queue q dequeues from the guest's transmitq q (vring 2q+1), Tx
/// queue q enqueues into its receiveq q (vring 2q); each burst goes through the vring's
/// <see cref="VhostQueueSlot"/>, so the session never unmaps guest memory under it. Link up while the backend is
/// ready; a link-status event on every change. On SEND_RARP (after a live migration) the next burst on Rx queue 0
/// starts with a RARP frame from the guest's MAC, as DPDK's vhost does, so the switch relearns where it is.
/// </summary>
public sealed partial class VhostEthDev : EthDev
{
    /// <summary>DPDK's vhost names for its per-queue packet class counters (multicast, broadcast, unicast, size bins).</summary>
    private static readonly string?[] ClassNames =
    [
        "multicast_packets", "broadcast_packets", "unicast_packets", "undersize_packets", "size_64_packets",
        "size_65_to_127_packets", "size_128_to_255_packets", "size_256_to_511_packets", "size_512_to_1023_packets",
        "size_1024_to_1522_packets", "size_1523_to_max_packets",
    ];

    private readonly VhostUserBackend backend;
    private readonly ILogger logger;
    private readonly List<VhostRxQueue> rxQueues = [];
    private readonly List<VhostTxQueue> txQueues = [];
    private long rarpRequests;
    private long linkChanges;
    private readonly XStatBaseline xstatBaseline = new();

    internal VhostEthDev(string name, VhostUserBackendOptions options, bool linearBuffer, ILogger logger)
        : base(name, VhostDriver.DriverName, MacFromName(name))
    {
        this.logger = logger;
        LinearBuffer = linearBuffer;
        backend = new VhostUserBackend(options, logger);
        backend.Ready += OnBackendReady;
        backend.Disconnected += OnBackendDisconnected;
        backend.RarpRequested += OnRarpRequested;
        backend.MtuSet += OnMtuSet;
    }

    /// <summary>The vhost-user backend (socket, negotiated features, session counters).</summary>
    public VhostUserBackend Backend => backend;

    /// <summary>Whether multi-segment packets from the guest are dropped instead of handed over (devarg linear-buffer).</summary>
    public bool LinearBuffer { get; }

    /// <summary>Guest MAC announced by the last SEND_RARP and not yet sent up by Rx queue 0 (0 when none): read by the data path.</summary>
    internal ulong PendingRarp;

    internal void StartBackend() => backend.Start();

    internal void DisposeBackend() => backend.Dispose();

    protected override EthDevInfo GetInfo() => new()
    {
        DriverName = VhostDriver.DriverName,
        MaxRxQueues = backend.Options.QueuePairs,
        MaxTxQueues = backend.Options.QueuePairs,
        MaxRxPacketLength = Mbuf.MaxPacketLength - 1,
        MaxMtu = Mbuf.MaxPacketLength - 1 - 18,
        MaxTxSegments = Mbuf.MaxSegments,
        RxOffloadCapabilities = LinearBuffer ? RxOffloads.None : RxOffloads.Scatter,
        TxOffloadCapabilities = TxOffloads.MultiSegments,
        SpeedCapabilities = [LinkSpeed.Gbps10],
        SupportsLinkStatusEvents = true,
    };

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
        // The base releases the old queues after this returns: forget them here, so xstats list only the new ones.
        this.rxQueues.Clear();
        this.txQueues.Clear();
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        var q = new VhostRxQueue(queueId, descriptors, pool, backend.Slots[(2 * queueId) + 1], this);
        rxQueues.RemoveAll(r => r.QueueId == queueId);
        rxQueues.Add(q);
        return q;
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        var q = new VhostTxQueue(queueId, descriptors, backend.Slots[2 * queueId]);
        txQueues.RemoveAll(t => t.QueueId == queueId);
        txQueues.Add(q);
        return q;
    }

    protected override LinkStatus OnGetLink() => backend.IsReady ? LinkStatus.Up(LinkSpeed.Gbps10) : LinkStatus.Down;

    protected override void OnClose()
    {
        backend.Ready -= OnBackendReady;
        backend.Disconnected -= OnBackendDisconnected;
        backend.RarpRequested -= OnRarpRequested;
        backend.MtuSet -= OnMtuSet;
        backend.Dispose();
    }

    protected override void OnResetStats() => xstatBaseline.Capture(RawXStats());

    protected override void OnAddXStats(List<XStat> xstats)
    {
        xstatBaseline.AddSince(xstats, RawXStats());
    }

    /// <summary>The driver's own counters as they grew since probe (<see cref="OnAddXStats"/> subtracts the last reset).</summary>
    private List<XStat> RawXStats()
    {
        var xstats = new List<XStat>();
        foreach (var q in rxQueues.OrderBy(q => q.QueueId))
        {
            q.Classes.AddTo(xstats, I($"rx_q{q.QueueId}_"), ClassNames);
            AddRing(xstats, I($"rx_q{q.QueueId}_"), backend.Slots[(2 * q.QueueId) + 1]);
            xstats.Add(new(I($"rx_q{q.QueueId}_linear_drops"), Volatile.Read(ref q.LinearDrops)));
        }

        foreach (var q in txQueues.OrderBy(q => q.QueueId))
        {
            q.Classes.AddTo(xstats, I($"tx_q{q.QueueId}_"), ClassNames);
            AddRing(xstats, I($"tx_q{q.QueueId}_"), backend.Slots[2 * q.QueueId]);
        }

        var c = backend.Counters;
        xstats.Add(new("vhost_messages", c.MessagesHandled));
        xstats.Add(new("vhost_malformed_messages", c.MalformedMessages));
        xstats.Add(new("vhost_protocol_violations", c.ProtocolViolations));
        xstats.Add(new("vhost_unsupported_requests", c.UnsupportedRequests));
        xstats.Add(new("vhost_connections", c.ConnectionsAccepted));
        xstats.Add(new("vhost_connections_refused", c.ConnectionsRefused));
        xstats.Add(new("vhost_connections_dropped_for_errors", c.ConnectionsDroppedForErrors));
        xstats.Add(new("vhost_disconnects", c.Disconnects));
        xstats.Add(new("vhost_connect_attempts_failed", c.ConnectAttemptsFailed));
        xstats.Add(new("vhost_retire_timeouts", c.RetireTimeouts));
        xstats.Add(new("vhost_broken_rings", c.BrokenRings));
        xstats.Add(new("vhost_rarp_requests", Interlocked.Read(ref rarpRequests)));
        xstats.Add(new("vhost_link_changes", Interlocked.Read(ref linkChanges)));
        return xstats;
    }

    /// <summary>The library's counters of a vring: what the current queue counted plus what retired ones did.</summary>
    private static void AddRing(List<XStat> xstats, string prefix, VhostQueueSlot slot)
    {
        var s = slot.Current?.Stats;
        xstats.Add(new(prefix + "ring_faults", slot.RetiredFaults + (s is null ? 0 : Volatile.Read(ref s.Faults))));
        xstats.Add(new(prefix + "ring_dropped", slot.RetiredDropped + (s is null ? 0 : Volatile.Read(ref s.Dropped))));
        xstats.Add(new(prefix + "ring_broken", slot.RetiredBroken + (s is null ? 0 : Volatile.Read(ref s.Broken))));
        xstats.Add(new(prefix + "guest_notifications", slot.RetiredNotifications + (s is null ? 0 : Volatile.Read(ref s.GuestNotifications))));
    }

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private void OnBackendReady(object? sender, EventArgs e)
    {
        Interlocked.Increment(ref linkChanges);
        LogLink(logger, Name, "up", backend.NegotiatedFeatures);
        RaiseEvent(EthDevEventType.LinkStatusChange, "up: the vhost-user frontend made the device ready");
    }

    private void OnBackendDisconnected(object? sender, EventArgs e)
    {
        Interlocked.Increment(ref linkChanges);
        LogLink(logger, Name, "down", backend.NegotiatedFeatures);
        RaiseEvent(EthDevEventType.LinkStatusChange, "down: the vhost-user frontend stopped the device or went away");
    }

    private void OnRarpRequested(object? sender, MacAddress mac)
    {
        Interlocked.Increment(ref rarpRequests);
        Volatile.Write(ref PendingRarp, mac.ToUInt64() | RarpFrame.PendingFlag);
        LogRarp(logger, Name, mac.ToString());
    }

    private void OnMtuSet(object? sender, int mtu) => LogMtu(logger, Name, mtu);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: link {State} (features 0x{Features:X})")]
    private static partial void LogLink(ILogger logger, string port, string state, ulong features);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: SEND_RARP for {Mac}; Rx queue 0 announces it")]
    private static partial void LogRarp(ILogger logger, string port, string mac);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: the frontend set the MTU to {Mtu} (NET_SET_MTU)")]
    private static partial void LogMtu(ILogger logger, string port, int mtu);
}
