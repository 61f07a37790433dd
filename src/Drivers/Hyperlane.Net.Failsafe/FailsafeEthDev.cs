using System.Globalization;
using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Core.Runtime;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.Failsafe;

/// <summary>
/// A <c>net_failsafe</c> port: one port over up to 8 sub-devices that come and go. Transmit goes through the
/// preferred (first listed) started sub-device, else the next; receive drains every started sub-device in
/// each burst. An upkeep alarm (every <c>hotplug_poll</c> ms, and at once after a removal or a new kernel
/// interface) brings each sub-device to the port's state: reads exec()/fd() sources, probes or adopts the
/// port, configures it, replays the configuration, starts it. A sub-device's removal event or the netlink
/// deletion of its kernel interface switches traffic away at once; the teardown runs on the control thread
/// and waits, through the sub-device's own per-queue in-use flags, until no lcore is inside a burst on it.
/// </summary>
/// <remarks>
/// Locks, always taken in this order: the port's control lock (EthDev), <c>upkeepLock</c> (every control
/// operation on sub-devices), <c>statsLock</c>, a sub-device's control lock. <c>publishLock</c> only guards
/// building the data-path snapshot and is never held across a sub-device operation, so event threads
/// (which take only it) cannot deadlock with a teardown that joins them.
/// </remarks>
public sealed partial class FailsafeEthDev : EthDev
{
    public const string DriverNameConst = "net_failsafe";

    private readonly HyperlaneRuntime runtime;
    private readonly ILogger logger;
    private readonly SubDevice[] subs;
    private readonly EthDevOwner owner;
    private readonly Lock upkeepLock = new();
    private readonly Lock publishLock = new();
    private readonly Lock statsLock = new();
    private readonly TimeSpan pollPeriod;
    private readonly MacAddress? givenMac;
    private Alarm? alarm;
    private LinkMonitor? monitor;
    private RtNetlink? linkQuery; // kernel link state of sub-devices' interfaces; used under linkLock
    private readonly Lock linkLock = new();
    private int upkeepPosted;
    private volatile bool closed;

    // The configuration to replay, mirrored by the hooks (never read from the base class under upkeepLock,
    // whose properties may take the control lock).
    private SubDeviceState target = SubDeviceState.Probed;
    private int rxCount;
    private int txCount;
    private EthConf conf = EthConf.Default;
    private QueueSetup[] rxSetups = [];
    private QueueSetup[] txSetups = [];
    private int? mtu;
    private MacAddress mac;
    private bool promiscuous;
    private bool allMulticast;
    private bool linkDownRequested;
    private MacAddress[] multicast = [];
    private readonly List<MacAddress> extraMacs = [];

    // Stats of sub-devices that are gone (or were reconfigured), and the point of the last ResetStats.
    private EthStats accumulated = new();
    private EthStats resetBaseline = new();
    private readonly XStatBaseline xstatBaseline = new();

    private long probeFailures;
    private long sourceErrors;
    private long operationFailures;
    private long removals;
    private long txSwitches;

    internal FailsafeEthDev(string name, HyperlaneRuntime runtime, ILogger logger, IReadOnlyList<SubDeviceSource> sources, MacAddress? mac, TimeSpan pollPeriod)
        : base(name, DriverNameConst, mac ?? MacFromName(name))
    {
        this.runtime = runtime;
        this.logger = logger;
        this.pollPeriod = pollPeriod;
        givenMac = mac;
        this.mac = MacAddress;
        owner = new EthDevOwner(name);
        subs = [.. sources.Select((s, i) => new SubDevice(i, s))];
    }

    /// <summary>The data path's view: the started sub-devices to poll, and the one to transmit on.</summary>
    internal volatile DataPath Path = DataPath.Empty;

    /// <summary>The owner the sub-device ports are claimed by (named after this port).</summary>
    public EthDevOwner SubDeviceOwner => owner;

    public int SubDeviceCount => subs.Length;

    /// <summary>How often the upkeep alarm runs.</summary>
    public TimeSpan HotplugPoll => pollPeriod;

    /// <summary>Index of the sub-device transmitting now, or -1 when none can.</summary>
    public int TxSubDeviceIndex => Path.TxIndex;

    /// <summary>Sub-device removals so far (events, deleted interfaces, failed operations).</summary>
    public long Removals => Interlocked.Read(ref removals);

    /// <summary>Times the transmitting sub-device changed while the port was started.</summary>
    public long TxSwitches => Interlocked.Read(ref txSwitches);

    /// <summary>Sub-device probes that failed.</summary>
    public long ProbeFailures => Interlocked.Read(ref probeFailures);

    /// <summary>exec()/fd() rounds that gave no usable devargs because of an error (bad line, failed command, bad fd).</summary>
    public long SourceErrors => Interlocked.Read(ref sourceErrors);

    public SubDeviceState GetSubDeviceState(int index) => subs[index].State;

    /// <summary>The port of sub-device <paramref name="index"/>, or null while it is absent.</summary>
    public EthDev? GetSubDevicePort(int index) => subs[index].Port;

    /// <summary>The last error of sub-device <paramref name="index"/> (probe, source or operation), or null.</summary>
    public string? GetSubDeviceError(int index) => subs[index].LastError;

    /// <summary>
    /// Raised after each configuration of the port (on the configuring thread, under the port's control lock:
    /// a handler only posts work). net_vdev_netvsc waits for it to feed the VF with the right queue count.
    /// </summary>
    public event EventHandler? Configured;

    /// <summary>Runs the upkeep now on the calling thread (tests, and <c>port</c> commands that want a result at once).</summary>
    public void RunUpkeep()
    {
        Interlocked.Exchange(ref upkeepPosted, 0);
        if (closed || runtime.IsShuttingDown)
        {
            return;
        }

        lock (upkeepLock)
        {
            if (!closed)
            {
                SyncAll(readSources: true);
            }
        }
    }

    // ---------------- probe ----------------

    /// <summary>Probes the sub-devices that can be probed now, picks the MAC, and starts the upkeep alarm.</summary>
    internal void Initialize()
    {
        lock (upkeepLock)
        {
            SyncAll(readSources: true);
            if (givenMac is null && subs.Select(s => s.Port).FirstOrDefault(p => p is not null) is { } first)
            {
                InitializeMacAddress(first.MacAddress);
                mac = first.MacAddress;
            }
        }

        alarm = runtime.Control.SetPeriodic(Name + " upkeep", pollPeriod, RunUpkeep);
    }

    // ---------------- device info, link, stats ----------------

    protected override EthDevInfo GetInfo()
    {
        var infos = new List<EthDevInfo>();
        foreach (var s in subs)
        {
            if (s.Port is { State: not EthDevState.Closed } p)
            {
                try
                {
                    infos.Add(p.Info);
                }
                catch (EthDevException)
                {
                    // gone in between
                }
            }
        }

        return MergeInfo(infos);
    }

    /// <summary>The conservative merge DPDK's failsafe reports: the smallest limits, the common capabilities.</summary>
    internal static EthDevInfo MergeInfo(IReadOnlyList<EthDevInfo> infos)
    {
        if (infos.Count == 0)
        {
            return new EthDevInfo
            {
                DriverName = DriverNameConst,
                MaxRxQueues = 16,
                MaxTxQueues = 16,
                MaxMacAddresses = 128,
                SupportsLinkStatusEvents = true,
            };
        }

        int minRxDesc = infos.Max(i => i.MinRxDescriptors), maxRxDesc = infos.Min(i => i.MaxRxDescriptors);
        int minTxDesc = infos.Max(i => i.MinTxDescriptors), maxTxDesc = infos.Min(i => i.MaxTxDescriptors);
        int minMtu = infos.Max(i => i.MinMtu), maxMtu = infos.Min(i => i.MaxMtu);
        var first = infos[0];
        return new EthDevInfo
        {
            DriverName = DriverNameConst,
            MaxRxQueues = infos.Min(i => i.MaxRxQueues),
            MaxTxQueues = infos.Min(i => i.MaxTxQueues),
            MinRxDescriptors = Math.Min(minRxDesc, maxRxDesc),
            MaxRxDescriptors = maxRxDesc,
            MinTxDescriptors = Math.Min(minTxDesc, maxTxDesc),
            MaxTxDescriptors = maxTxDesc,
            MaxRxPacketLength = infos.Min(i => i.MaxRxPacketLength),
            MinMtu = Math.Min(minMtu, maxMtu),
            MaxMtu = maxMtu,
            MaxMacAddresses = infos.Min(i => i.MaxMacAddresses),
            MaxTxSegments = infos.Min(i => i.MaxTxSegments),
            RxOffloadCapabilities = infos.Aggregate(first.RxOffloadCapabilities, (a, i) => a & i.RxOffloadCapabilities),
            TxOffloadCapabilities = infos.Aggregate(first.TxOffloadCapabilities, (a, i) => a & i.TxOffloadCapabilities),
            RssHashCapabilities = infos.Aggregate(first.RssHashCapabilities, (a, i) => a & i.RssHashCapabilities),
            RssKeySize = infos.Min(i => i.RssKeySize),
            SpeedCapabilities = [.. infos.Skip(1).Aggregate((IEnumerable<uint>)first.SpeedCapabilities, (a, i) => a.Intersect(i.SpeedCapabilities))],
            SupportsLinkStatusEvents = true, // raised when the transmitting sub-device changes
            SupportsRemovalEvents = false, // the failsafe port itself is never removed
            DefaultRxBurst = first.DefaultRxBurst,
            DefaultTxBurst = first.DefaultTxBurst,
            DefaultRxDescriptors = Math.Clamp(first.DefaultRxDescriptors, Math.Min(minRxDesc, maxRxDesc), maxRxDesc),
            DefaultTxDescriptors = Math.Clamp(first.DefaultTxDescriptors, Math.Min(minTxDesc, maxTxDesc), maxTxDesc),
        };
    }

    /// <summary>
    /// The link of the transmitting sub-device; down when none can transmit. In the moment between a
    /// sub-device's link going down and Tx moving off it, another started sub-device whose link is up is
    /// reported: the port can still carry traffic, and a failsafe port nested in another must not look down
    /// (and make the outer one switch) while it fails over inside.
    /// </summary>
    protected override LinkStatus OnGetLink()
    {
        var path = Path;
        if (path.Tx is not { } tx)
        {
            return LinkStatus.Down;
        }

        var link = SafeLink(tx);
        if (!link.IsUp)
        {
            foreach (var p in path.Rx)
            {
                if (!ReferenceEquals(p, tx) && SafeLink(p) is { IsUp: true } other)
                {
                    return other;
                }
            }
        }

        return link;
    }

    /// <summary>Stats of the sub-devices that are gone plus the live ones, so they never go backwards.</summary>
    protected override EthStats OnAdjustStats(EthStats stats) => StatsMath.Subtract(RawTotal(), resetBaseline);

    protected override void OnResetStats()
    {
        resetBaseline = RawTotal();
        xstatBaseline.Capture(RawCounterXStats());
    }

    /// <summary>The event counters count from the last reset, as DPDK's xstats_reset leaves them; the states do not reset.</summary>
    protected override void OnAddXStats(List<XStat> xstats)
    {
        xstats.Add(new("fs_tx_subdevice", TxSubDeviceIndex));
        xstatBaseline.AddSince(xstats, RawCounterXStats());
        foreach (var s in subs)
        {
            xstats.Add(new(string.Create(CultureInfo.InvariantCulture, $"fs_sub{s.Index}_state"), (long)s.State));
        }
    }

    /// <summary>The event counters as they grew since probe.</summary>
    private XStat[] RawCounterXStats() =>
    [
        new("fs_tx_switches", TxSwitches),
        new("fs_removals", Removals),
        new("fs_probe_failures", ProbeFailures),
        new("fs_source_errors", SourceErrors),
        new("fs_operation_failures", Interlocked.Read(ref operationFailures)),
    ];

    private EthStats RawTotal()
    {
        lock (statsLock)
        {
            var total = accumulated;
            foreach (var s in subs)
            {
                if (s.Port is { } p && TryStats(p) is { } now)
                {
                    total = StatsMath.Add(total, StatsMath.Subtract(now, s.AttachBaseline));
                }
            }

            return total;
        }
    }

    /// <summary>The port's stats; for a port closed behind our back (runtime shutdown, bus removal) those it had when closed.</summary>
    private static EthStats? TryStats(EthDev p)
    {
        if (p.State == EthDevState.Closed)
        {
            return p.StatsAtClose;
        }

        try
        {
            return p.GetStats();
        }
        catch (EthDevException)
        {
            return p.StatsAtClose; // closed in between
        }
    }

    /// <summary>Under statsLock: adds what the sub-device counted since its baseline to the accumulator and moves the baseline there.</summary>
    private void FoldLocked(SubDevice s, EthDev p)
    {
        if (TryStats(p) is { } now)
        {
            accumulated = StatsMath.Add(accumulated, StatsMath.Subtract(now, s.AttachBaseline));
            s.AttachBaseline = now;
        }
    }

    /// <summary>
    /// Runs an operation that replaces a sub-device's queues (and so its counters): what they counted is
    /// folded into the accumulator first and the baseline taken afresh after, so port stats never drop.
    /// </summary>
    private void WithStatsFolded(SubDevice s, EthDev p, Action action)
    {
        lock (statsLock)
        {
            FoldLocked(s, p);

            try
            {
                action();
            }
            finally
            {
                s.AttachBaseline = TryStats(p) ?? new EthStats();
            }
        }
    }

    // ---------------- control hooks: record, then bring the sub-devices along ----------------

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
        lock (upkeepLock)
        {
            rxCount = rxQueues;
            txCount = txQueues;
            this.conf = conf;
            rxSetups = new QueueSetup[rxQueues];
            txSetups = new QueueSetup[txQueues];
            if (conf.Mtu is { } m)
            {
                mtu = m;
            }

            target = SubDeviceState.Active;
            foreach (var s in subs)
            {
                if (s.State >= SubDeviceState.Active)
                {
                    s.State = SubDeviceState.Probed; // reconfigure with the new configuration
                }
            }

            SyncAll();
        }

        Configured?.Invoke(this, EventArgs.Empty);
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        lock (upkeepLock)
        {
            rxSetups[queueId] = new QueueSetup(descriptors, pool, conf, null);
            ForEachActive("Rx queue setup", (s, p) => WithStatsFolded(s, p, () => SetupRx(p, queueId, rxSetups[queueId])));
        }

        return new FailsafeRxQueue(this, queueId, descriptors, pool);
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        lock (upkeepLock)
        {
            txSetups[queueId] = new QueueSetup(descriptors, null, null, conf);
            ForEachActive("Tx queue setup", (s, p) => WithStatsFolded(s, p, () => SetupTx(p, queueId, txSetups[queueId])));
        }

        return new FailsafeTxQueue(this, queueId, descriptors);
    }

    protected override void OnStart() => SetTarget(SubDeviceState.Started);

    protected override void OnStop() => SetTarget(SubDeviceState.Active);

    protected override void OnReset()
    {
        lock (upkeepLock)
        {
            rxCount = txCount = 0;
            rxSetups = [];
            txSetups = [];
            conf = EthConf.Default;
            target = SubDeviceState.Probed;
            SyncAll();
        }
    }

    protected override void OnClose()
    {
        closed = true;
        alarm?.Cancel();
        lock (upkeepLock)
        {
            target = SubDeviceState.Undefined;
            foreach (var s in subs)
            {
                Teardown(s, "the failsafe port is closed");
                s.Source.Dispose();
            }

            Publish("the failsafe port is closed");
        }

        monitor?.Dispose();
        monitor = null;
        lock (linkLock)
        {
            linkQuery?.Dispose();
            linkQuery = null;
        }
    }

    protected override void OnSetLinkUp() => ApplyToActive("link up", () => linkDownRequested = false, p => p.SetLinkUp());

    protected override void OnSetLinkDown() => ApplyToActive("link down", () => linkDownRequested = true, p => p.SetLinkDown());

    protected override void OnSetPromiscuous(bool enable) =>
        ApplyToActive(enable ? "promiscuous enable" : "promiscuous disable", () => promiscuous = enable, p => SetPromiscuous(p, enable));

    protected override void OnSetAllMulticast(bool enable) =>
        ApplyToActive(enable ? "all-multicast enable" : "all-multicast disable", () => allMulticast = enable, p => SetAllMulticast(p, enable));

    protected override void OnSetMacAddress(MacAddress mac) =>
        ApplyToActive("MAC address set", () => this.mac = mac, p => p.SetMacAddress(mac));

    protected override void OnAddMacAddress(MacAddress mac) =>
        ApplyToActive("MAC address add", () => extraMacs.Add(mac), p => p.AddMacAddress(mac));

    protected override void OnRemoveMacAddress(MacAddress mac) =>
        ApplyToActive("MAC address remove", () => extraMacs.Remove(mac), p => p.RemoveMacAddress(mac));

    protected override void OnSetMulticastList(IReadOnlyList<MacAddress> addresses) =>
        ApplyToActive("multicast list set", () => multicast = [.. addresses], p => p.SetMulticastList(addresses));

    protected override void OnSetMtu(int mtu) =>
        ApplyToActive("MTU set", () => this.mtu = mtu, p => p.SetMtu(mtu));

    private void SetTarget(SubDeviceState state)
    {
        lock (upkeepLock)
        {
            target = state;
            SyncAll();
        }
    }

    /// <summary>Records a setting, then applies it to every configured sub-device; one that cannot is logged and skipped.</summary>
    private void ApplyToActive(string op, Action record, Action<EthDev> apply)
    {
        lock (upkeepLock)
        {
            record();
            ForEachActive(op, (s, p) => Replay(s, op, () => apply(p)));
        }
    }

    private void ForEachActive(string op, Action<SubDevice, EthDev> action)
    {
        using var scope = owner.Enter();
        foreach (var s in subs)
        {
            if (s.State >= SubDeviceState.Active && Volatile.Read(ref s.RemovePending) == 0 && s.Port is { } p)
            {
                try
                {
                    action(s, p);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    OperationFailed(s, op, ex);
                }
            }
        }
    }

    // ---------------- upkeep: bring every sub-device to the port's state ----------------

    /// <summary>
    /// Under upkeepLock: tear down what must go, bring the rest to the target, tear down what failed.
    /// exec()/fd() sources are read only when <paramref name="readSources"/> (probe and upkeep), never inside
    /// an application's control operation, which a slow command would hold up.
    /// </summary>
    private void SyncAll(bool readSources = false)
    {
        foreach (var s in subs)
        {
            if (s.Port is { State: EthDevState.Closed })
            {
                MarkForRemoval(s, "its port was closed outside the failsafe port", postUpkeep: false);
            }
        }

        RemovePass();
        using (owner.Enter())
        {
            foreach (var s in subs)
            {
                if (Volatile.Read(ref s.RemovePending) == 0 && (readSources || s.State != SubDeviceState.Undefined))
                {
                    SyncOne(s);
                }
            }
        }

        RemovePass();
        foreach (var s in subs)
        {
            if (s.State == SubDeviceState.Started && s.Port is { } p)
            {
                RefreshLink(s, p, "link state at upkeep");
            }
        }

        Publish("upkeep");
    }

    private void SyncOne(SubDevice s)
    {
        string op = "read devargs";
        try
        {
            if (s.State == SubDeviceState.Undefined)
            {
                string? devargs = s.Source.TryRead(runtime.Drivers, Name, out string? error);
                if (devargs is null)
                {
                    if (error is not null)
                    {
                        SourceFailed(s, error);
                    }

                    return;
                }

                s.Devargs = devargs;
                s.State = SubDeviceState.Parsed;
                LogParsed(logger, Name, s.Index, s.Source.Description, devargs);
            }

            if (target >= SubDeviceState.Probed && s.State == SubDeviceState.Parsed && !runtime.IsShuttingDown)
            {
                op = "probe";
                Attach(s);
            }

            if (s.Port is not { } p)
            {
                return;
            }

            if (p.State == EthDevState.Closed)
            {
                MarkForRemoval(s, "its port was closed outside the failsafe port", postUpkeep: false);
                return;
            }

            if (target >= SubDeviceState.Active && s.State == SubDeviceState.Probed)
            {
                op = "configure";
                Activate(s, p);
            }

            if (target == SubDeviceState.Started && s.State == SubDeviceState.Active)
            {
                op = "start";
                p.Start();
                RefreshLink(s, p, "started");
                s.State = SubDeviceState.Started;
                LogStarted(logger, Name, s.Label);
            }

            if (target < SubDeviceState.Started && s.State == SubDeviceState.Started)
            {
                op = "stop";
                s.State = SubDeviceState.Active;
                Publish("port stopping");
                p.Stop();
            }

            if (target < SubDeviceState.Active && s.State == SubDeviceState.Active)
            {
                op = "reset";
                s.State = SubDeviceState.Probed;
                WithStatsFolded(s, p, p.Reset);
            }

            if (s.State == target)
            {
                s.LastError = null;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (s.Port is null)
            {
                ProbeFailed(s, ex);
            }
            else
            {
                // This round's last removal pass tears it down; the next try is the next periodic round,
                // not a round posted at once (a sub-device that always fails would spin the control thread).
                OperationFailed(s, op, ex, postUpkeep: false);
            }
        }
    }

    /// <summary>Probes the sub-device on the vdev bus, or adopts a port of that name nobody else owns, and claims it.</summary>
    private void Attach(SubDevice s)
    {
        string devargs = s.Devargs!;
        var args = Devargs.Parse(devargs);
        EthDev port;
        bool ours;
        if (runtime.Ports.FindByName(args.Name) is { } existing)
        {
            if (existing.Owner is { } other && !ReferenceEquals(other, owner))
            {
                throw new DeviceException(args.Name, $"the port exists and is owned by {other.Name}; {Name} will not take it");
            }

            if (subs.FirstOrDefault(o => o != s && ReferenceEquals(o.Port, existing)) is { } holder)
            {
                throw new DeviceException(args.Name, $"the port is already sub-device {holder.Index} of {Name}");
            }

            port = existing;
            ours = false;
        }
        else
        {
            // A device whose ports were all closed (an adopted port we closed, or one closed by its user)
            // still holds its name on the bus: remove it so the name can be probed again.
            if (runtime.Vdev.Find(args.Name) is { } stale && stale.Ports.All(p => p.State == EthDevState.Closed))
            {
                runtime.Vdev.Remove(args.Name);
            }

            var device = runtime.Vdev.Probe(devargs);
            if (device.Ports.Count != 1)
            {
                runtime.Vdev.Remove(device.Name);
                throw new DeviceException(args.Name, string.Create(CultureInfo.InvariantCulture, $"made {device.Ports.Count} ports; a sub-device must make exactly one"));
            }

            port = device.Ports[0];
            ours = true;
        }

        try
        {
            runtime.Ports.Claim(port, owner);
        }
        catch (EthDevException) when (ours)
        {
            runtime.Vdev.Remove(port.Name); // claimed by someone else in between: do not leave it probed
            throw;
        }

        s.AttachBaseline = TryStats(port) ?? new EthStats();
        s.KernelInterface = port is IKernelInterfacePort k ? (k.InterfaceName, k.InterfaceIndex) : null;
        EventHandler<EthDevEventArgs> handler = (_, e) => OnSubDeviceEvent(s, port, e);
        port.EventRaised += handler;
        s.Handler = handler;
        s.Port = port;
        s.State = SubDeviceState.Probed;
        s.LastError = null;
        if (s.KernelInterface is not null)
        {
            EnsureMonitor();
        }

        LogAttached(logger, Name, s.Index, ours ? "probed" : "adopted", port.ToString());
    }

    /// <summary>Configures the sub-device as the port is, sets up its queues and replays the settings.</summary>
    private void Activate(SubDevice s, EthDev p)
    {
        if (p.State == EthDevState.Started)
        {
            p.Stop();
        }

        var info = p.Info;
        var subConf = conf with
        {
            LinkStatusEvents = conf.LinkStatusEvents && info.SupportsLinkStatusEvents,
            RemovalEvents = info.SupportsRemovalEvents,
        };
        WithStatsFolded(s, p, () =>
        {
            p.Configure(rxCount, txCount, subConf);
            s.State = SubDeviceState.Active;
            for (int q = 0; q < rxSetups.Length; q++)
            {
                if (rxSetups[q].Descriptors > 0)
                {
                    SetupRx(p, q, rxSetups[q]);
                }
            }

            for (int q = 0; q < txSetups.Length; q++)
            {
                if (txSetups[q].Descriptors > 0)
                {
                    SetupTx(p, q, txSetups[q]);
                }
            }
        });

        if (mtu is { } m)
        {
            Replay(s, "MTU set", () =>
            {
                if (p.Mtu != m)
                {
                    p.SetMtu(m);
                }
            });
        }

        Replay(s, "MAC address set", () =>
        {
            if (p.MacAddress != mac)
            {
                p.SetMacAddress(mac);
            }
        });
        if (p.Promiscuous != promiscuous)
        {
            Replay(s, promiscuous ? "promiscuous enable" : "promiscuous disable", () => SetPromiscuous(p, promiscuous));
        }

        if (p.AllMulticast != allMulticast)
        {
            Replay(s, allMulticast ? "all-multicast enable" : "all-multicast disable", () => SetAllMulticast(p, allMulticast));
        }

        if (multicast.Length > 0)
        {
            Replay(s, "multicast list set", () => p.SetMulticastList(multicast));
        }

        foreach (var extra in extraMacs)
        {
            Replay(s, "MAC address add", () => p.AddMacAddress(extra));
        }

        if (linkDownRequested)
        {
            Replay(s, "link down", p.SetLinkDown);
        }

        LogConfigured(logger, Name, s.Label);
    }

    private static void SetupRx(EthDev p, int queue, QueueSetup setup)
    {
        var info = p.Info;
        p.SetupRxQueue(queue, Math.Clamp(setup.Descriptors, info.MinRxDescriptors, info.MaxRxDescriptors), setup.Pool!, setup.RxConf);
    }

    private static void SetupTx(EthDev p, int queue, QueueSetup setup)
    {
        var info = p.Info;
        p.SetupTxQueue(queue, Math.Clamp(setup.Descriptors, info.MinTxDescriptors, info.MaxTxDescriptors), setup.TxConf);
    }

    private static void SetPromiscuous(EthDev p, bool enable)
    {
        if (enable)
        {
            p.EnablePromiscuous();
        }
        else
        {
            p.DisablePromiscuous();
        }
    }

    private static void SetAllMulticast(EthDev p, bool enable)
    {
        if (enable)
        {
            p.EnableAllMulticast();
        }
        else
        {
            p.DisableAllMulticast();
        }
    }

    /// <summary>Replays one setting; a sub-device that does not support it is logged and skipped (DPDK stops there, and crashes).</summary>
    private void Replay(SubDevice s, string op, Action action)
    {
        try
        {
            action();
        }
        catch (EthDevNotSupportedException)
        {
            LogSkipped(logger, Name, s.Label, op);
        }
    }

    // ---------------- removal ----------------

    /// <summary>
    /// Takes the sub-device out of the data path at once (any thread) and asks the control thread to tear it
    /// down. Bursts already inside it finish; the teardown waits for them.
    /// </summary>
    internal void MarkForRemoval(SubDevice s, string reason, bool postUpkeep = true)
    {
        if (Interlocked.Exchange(ref s.RemovePending, 1) != 0)
        {
            return;
        }

        s.RemoveReason = reason;
        Interlocked.Increment(ref removals);
        LogRemoving(logger, Name, s.Label, reason);
        Publish($"{s.Label} removed: {reason}");
        if (postUpkeep)
        {
            RequestUpkeep();
        }
    }

    private void RemovePass()
    {
        foreach (var s in subs)
        {
            if (Volatile.Read(ref s.RemovePending) != 0)
            {
                // MarkForRemoval publishes too, but on its own thread: make sure the data path has left this
                // sub-device before it is stopped, so no burst is sent into a port that is going away.
                Publish($"{s.Label} removed: {s.RemoveReason}");
                Teardown(s, s.RemoveReason ?? "removed");
            }
        }
    }

    /// <summary>Under upkeepLock: saves the sub-device's stats, stops and closes it (its device leaves the vdev bus), and resets the slot.</summary>
    private void Teardown(SubDevice s, string reason)
    {
        if (s.Port is { } p)
        {
            using (owner.Enter())
            {
                if (p.State == EthDevState.Started)
                {
                    try
                    {
                        p.Stop(); // waits until no lcore is inside a burst on it
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        LogTeardownStep(logger, ex, Name, s.Label, "stop");
                    }
                }

                lock (statsLock)
                {
                    FoldLocked(s, p);
                    s.Port = null;
                }

                if (s.Handler is { } h)
                {
                    p.EventRaised -= h;
                    s.Handler = null;
                }

                try
                {
                    // The device goes from the bus with its port (DPDK's rte_dev_remove), adopted or not, unless
                    // it has other ports still open.
                    if (runtime.Vdev.Find(p.Name) is { } device && device.Ports.All(o => ReferenceEquals(o, p) || o.State == EthDevState.Closed))
                    {
                        runtime.Vdev.Remove(p.Name);
                    }
                    else
                    {
                        p.Close();
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogTeardownStep(logger, ex, Name, s.Label, "close");
                }
            }

            LogTornDown(logger, Name, s.Index, p.Name, reason);
        }

        s.State = s.Source.IsFixed && s.Devargs is not null ? SubDeviceState.Parsed : SubDeviceState.Undefined;
        if (!s.Source.IsFixed)
        {
            s.Devargs = null;
        }

        s.KernelInterface = null;
        s.LinkDown = false;
        s.RemoveReason = null;
        Volatile.Write(ref s.RemovePending, 0);
    }

    private void OnSubDeviceEvent(SubDevice s, EthDev port, EthDevEventArgs e)
    {
        if (!ReferenceEquals(s.Port, port) || closed)
        {
            return; // an event of an earlier attachment
        }

        switch (e.Type)
        {
            case EthDevEventType.Removal:
                MarkForRemoval(s, e.Detail ?? "removal event");
                break;
            case EthDevEventType.ResetRequired:
                MarkForRemoval(s, "the sub-device asked for a reset; it is probed again");
                break;
            case EthDevEventType.LinkStatusChange:
                bool wasTx = ReferenceEquals(Path.Tx, port);
                RefreshLink(s, port, e.Detail ?? "link changed");
                if (wasTx && ReferenceEquals(Path.Tx, port))
                {
                    PostEvent(EthDevEventType.LinkStatusChange, $"{s.Label}: {e.Detail ?? "link changed"}");
                }

                break;
        }
    }

    /// <summary>Follows kernel interfaces: a deleted one takes its sub-device out at once; a new one triggers an upkeep.</summary>
    private void OnLinkChanged(object? sender, LinkEventArgs e)
    {
        if (closed)
        {
            return;
        }

        if (e.Kind == LinkEventKind.Deleted)
        {
            foreach (var s in subs)
            {
                if (s.KernelInterface is { } k && k.Index == e.Index) // by ifindex: a renamed interface is the same one
                {
                    MarkForRemoval(s, $"kernel interface {k.Name} (ifindex {k.Index}) deleted");
                }
            }
        }
        else
        {
            // "ip link del" first announces the interface down, well before the deletion (which waits for the
            // kernel's clean-up): Tx leaves a sub-device whose interface is down or has no carrier at once.
            foreach (var s in subs)
            {
                if (s.KernelInterface is { } k && k.Index == e.Index && s.Port is { } p)
                {
                    RefreshLink(s, p, $"kernel interface {k.Name} {(e.IsUp && e.HasCarrier ? "up" : "down")}");
                }
            }

            if (e.Kind == LinkEventKind.New && subs.Any(s => s.State < target && s.Port is null))
            {
                RequestUpkeep();
            }
        }
    }

    /// <summary>
    /// Reads the sub-device's link as it is now (for a kernel interface, from the kernel: IFF_UP and carrier;
    /// else the port's own link) and republishes when it changed. Reading and writing under one lock, each
    /// caller (an event, the upkeep) records what was true when it ran, so a late reader never leaves a stale state.
    /// </summary>
    private void RefreshLink(SubDevice s, EthDev p, string why)
    {
        bool changed;
        lock (linkLock)
        {
            bool down = !IsLinkUp(s, p);
            changed = s.LinkDown != down;
            s.LinkDown = down;
        }

        if (changed)
        {
            Publish($"{s.Label}: {why}");
        }
    }

    private bool IsLinkUp(SubDevice s, EthDev p)
    {
        if (s.KernelInterface is { } k && linkQuery is { } rtnl)
        {
            try
            {
                return rtnl.GetLink(k.Index) is { } link && link.IsUp && link.HasCarrier; // a rename (udev) keeps the ifindex
            }
            catch (Exception ex) when (ex is Linux.LinuxException or TimeoutException or IOException)
            {
                // fall back to what the port knows
            }
        }

        return SafeLink(p).IsUp;
    }

    private static LinkStatus SafeLink(EthDev p)
    {
        try
        {
            return p.GetLink();
        }
        catch (EthDevException)
        {
            return LinkStatus.Down;
        }
    }

    private void EnsureMonitor()
    {
        if (monitor is not null)
        {
            return;
        }

        try
        {
            linkQuery ??= new RtNetlink();
            var m = new LinkMonitor();
            m.LinkChanged += OnLinkChanged;
            monitor = m;
        }
        catch (Exception ex) when (ex is Linux.LinuxException or IOException)
        {
            LogNoMonitor(logger, ex, Name);
        }
    }

    private void RequestUpkeep()
    {
        if (!closed && Interlocked.Exchange(ref upkeepPosted, 1) == 0)
        {
            runtime.Control.Post(Name + " upkeep (event)", RunUpkeep);
        }
    }

    private void PostEvent(EthDevEventType type, string detail) =>
        runtime.Control.Post(Name + " event", () => RaiseEvent(type, detail));

    /// <summary>Rebuilds the data path's view; logs and raises a link event when the transmitting sub-device changes.</summary>
    private void Publish(string reason)
    {
        lock (publishLock)
        {
            // Tx: the first started sub-device whose link is up; when no link is up, the first started one.
            var rx = new List<EthDev>(subs.Length);
            EthDev? tx = null, fallback = null;
            int txIndex = -1, fallbackIndex = -1;
            foreach (var s in subs)
            {
                if (s.State == SubDeviceState.Started && Volatile.Read(ref s.RemovePending) == 0 && s.Port is { } p)
                {
                    rx.Add(p);
                    if (tx is null && !s.LinkDown)
                    {
                        tx = p;
                        txIndex = s.Index;
                    }

                    if (fallback is null)
                    {
                        fallback = p;
                        fallbackIndex = s.Index;
                    }
                }
            }

            if (tx is null)
            {
                tx = fallback;
                txIndex = fallbackIndex;
            }

            var old = Path;
            if (ReferenceEquals(old.Tx, tx) && old.Rx.AsSpan().SequenceEqual(rx.ToArray()))
            {
                return;
            }

            Path = new DataPath([.. rx], tx, txIndex);
            if (!ReferenceEquals(old.Tx, tx) && target == SubDeviceState.Started && !closed)
            {
                Interlocked.Increment(ref txSwitches);
                string detail = tx is null
                    ? $"no sub-device can transmit ({reason})"
                    : $"traffic now on sub-device {txIndex} ({tx.Name}): {reason}";
                LogTxSwitch(logger, Name, detail);
                PostEvent(EthDevEventType.LinkStatusChange, detail);
            }
        }
    }

    // ---------------- failures ----------------

    private void SourceFailed(SubDevice s, string error)
    {
        Interlocked.Increment(ref sourceErrors);
        Note(s, error);
    }

    private void ProbeFailed(SubDevice s, Exception ex)
    {
        Interlocked.Increment(ref probeFailures);
        Note(s, $"probe of '{s.Devargs}' failed: {ex.Message}");
        if (!s.Source.IsFixed)
        {
            s.State = SubDeviceState.Undefined; // read exec()/fd() again next round
            s.Devargs = null;
        }
    }

    private void OperationFailed(SubDevice s, string op, Exception ex, bool postUpkeep = true)
    {
        Interlocked.Increment(ref operationFailures);
        Note(s, $"{op} failed: {ex.Message}");
        MarkForRemoval(s, $"{op} failed", postUpkeep);
    }

    /// <summary>Logs an error once while it repeats (a sub-device failing every round would flood the log).</summary>
    private void Note(SubDevice s, string error)
    {
        if (string.Equals(s.LastError, error, StringComparison.Ordinal))
        {
            LogRepeated(logger, Name, s.Label, error);
            return;
        }

        s.LastError = error;
        LogSubDeviceError(logger, Name, s.Label, error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: sub-device {Index} {Source} gives '{Devargs}'")]
    private static partial void LogParsed(ILogger logger, string port, int index, string source, string devargs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: sub-device {Index} {How}: {SubPort}")]
    private static partial void LogAttached(ILogger logger, string port, int index, string how, string subPort);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Port}: {Sub} configured and settings replayed")]
    private static partial void LogConfigured(ILogger logger, string port, string sub);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: {Sub} started")]
    private static partial void LogStarted(ILogger logger, string port, string sub);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: {Sub} does not support {Operation}; skipped")]
    private static partial void LogSkipped(ILogger logger, string port, string sub, string operation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: {Sub} is being removed: {Reason}")]
    private static partial void LogRemoving(ILogger logger, string port, string sub, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: sub-device {Index} ({SubPort}) torn down: {Reason}")]
    private static partial void LogTornDown(ILogger logger, string port, int index, string subPort, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: {Sub}: {Step} during teardown failed")]
    private static partial void LogTeardownStep(ILogger logger, Exception ex, string port, string sub, string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: {Detail}")]
    private static partial void LogTxSwitch(ILogger logger, string port, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: {Sub}: {Error}")]
    private static partial void LogSubDeviceError(ILogger logger, string port, string sub, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Port}: {Sub}: still {Error}")]
    private static partial void LogRepeated(ILogger logger, string port, string sub, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: cannot watch kernel interfaces through netlink; removal relies on the sub-devices' own events")]
    private static partial void LogNoMonitor(ILogger logger, Exception ex, string port);

    /// <summary>A queue setup to replay: descriptors 0 means not set up.</summary>
    private readonly record struct QueueSetup(int Descriptors, Mempool? Pool, RxQueueConf? RxConf, TxQueueConf? TxConf);
}

/// <summary>What the bursts read: replaced whole (never changed in place) when a sub-device comes or goes.</summary>
internal sealed class DataPath(EthDev[] rx, EthDev? tx, int txIndex)
{
    public static readonly DataPath Empty = new([], null, -1);

    public EthDev[] Rx { get; } = rx;

    public EthDev? Tx { get; } = tx;

    public int TxIndex { get; } = txIndex;
}
