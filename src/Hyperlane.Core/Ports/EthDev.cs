using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Core.Ports;

/// <summary>
/// A port: the API an application (or failsafe) drives, as DPDK's rte_ethdev. Control operations check
/// the port's state and ownership and throw typed exceptions naming the port and the operation; drivers
/// implement the protected <c>On*</c> hooks. The data path is <see cref="RxBurst"/> and
/// <see cref="TxBurst"/>: they return counts, never throw and never allocate.
/// </summary>
public abstract class EthDev
{
    private static readonly EthRxQueue[] NoRxQueues = [];
    private static readonly EthTxQueue[] NoTxQueues = [];

    private readonly Lock controlLock = new();
    private readonly List<MacAddress> extraMacs = [];
    private EthRxQueue?[] rxQueues = [];
    private EthTxQueue?[] txQueues = [];
    private EthRxQueue[] activeRx = NoRxQueues;
    private EthTxQueue[] activeTx = NoTxQueues;
    private QueueSnapshot[] rxBaseline = [];
    private QueueSnapshot[] txBaseline = [];
    private IReadOnlyList<MacAddress> multicastList = [];
    private volatile EthDevState state = EthDevState.Unconfigured;

    protected EthDev(string name, string driverName, MacAddress mac)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(driverName);
        Name = name;
        DriverName = driverName;
        MacAddress = mac;
    }

    /// <summary>Raised for link changes, removal and other events of this port (on the thread that detected them).</summary>
    public event EventHandler<EthDevEventArgs>? EventRaised;

    /// <summary>Port id, set when the port is registered; <see cref="ushort.MaxValue"/> before that.</summary>
    public ushort PortId { get; internal set; } = ushort.MaxValue;

    public string Name { get; }

    public string DriverName { get; }

    public EthDevState State => state;

    public bool IsStarted => State == EthDevState.Started;

    /// <summary>The owner of this port, or null when the application owns it.</summary>
    public EthDevOwner? Owner { get; internal set; }

    /// <summary>The configuration given to the last successful <see cref="Configure"/>.</summary>
    public EthConf? Configuration { get; private set; }

    public int RxQueueCount => rxQueues.Length;

    public int TxQueueCount => txQueues.Length;

    public MacAddress MacAddress { get; private set; }

    /// <summary>Secondary unicast MAC addresses added with <see cref="AddMacAddress"/>.</summary>
    public IReadOnlyList<MacAddress> ExtraMacAddresses
    {
        get
        {
            lock (controlLock)
            {
                return [.. extraMacs];
            }
        }
    }

    public IReadOnlyList<MacAddress> MulticastAddresses => multicastList;

    public bool Promiscuous { get; private set; }

    public bool AllMulticast { get; private set; }

    public int Mtu { get; private set; } = 1500;

    /// <summary>Device capabilities and limits.</summary>
    public EthDevInfo Info => GetInfo();

    /// <summary>The Rx queue objects, for drivers that wrap other ports (failsafe) and for tests.</summary>
    protected IReadOnlyList<EthRxQueue?> RxQueues => rxQueues;

    protected IReadOnlyList<EthTxQueue?> TxQueues => txQueues;

    // ---------------- data path ----------------

    /// <summary>Receives up to <paramref name="packets"/>.Length packets from queue <paramref name="queueId"/>. 0 when the port is not started or the queue does not exist.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public virtual int RxBurst(int queueId, Span<Mbuf> packets)
    {
        EthRxQueue[] q = Volatile.Read(ref activeRx);
        if ((uint)queueId >= (uint)q.Length)
        {
            return 0;
        }

        // In-use flag, then re-check: a control thread that swapped the queues out waits for the flag to clear
        // before it lets the driver free what Receive uses. The flag is a plain store, not a fenced one: the control
        // side's process-wide barrier (QuiesceBursts) orders it against the re-check, so a burst costs no fence.
        EthRxQueue rq = q[queueId];
        Volatile.Write(ref rq.InUse, 1);
        int n = ReferenceEquals(Volatile.Read(ref activeRx), q) ? rq.Receive(packets) : 0;
        Volatile.Write(ref rq.InUse, 0);
        return n;
    }

    /// <summary>Transmits from the front of <paramref name="packets"/>; returns how many were taken. The rest still belong to the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public virtual int TxBurst(int queueId, ReadOnlySpan<Mbuf> packets)
    {
        EthTxQueue[] q = Volatile.Read(ref activeTx);
        if ((uint)queueId >= (uint)q.Length)
        {
            return 0;
        }

        EthTxQueue tq = q[queueId];
        Volatile.Write(ref tq.InUse, 1); // as in RxBurst: QuiesceBursts supplies the fence
        int n = ReferenceEquals(Volatile.Read(ref activeTx), q) ? tq.Transmit(packets) : 0;
        Volatile.Write(ref tq.InUse, 0);
        return n;
    }

    // ---------------- control path ----------------

    /// <summary>Sets the queue counts and port configuration (rte_eth_dev_configure). The port must be stopped.</summary>
    public void Configure(int rxQueues, int txQueues, EthConf? conf = null)
    {
        conf ??= EthConf.Default;
        lock (controlLock)
        {
            const string op = "configure";
            CheckControl(op);
            RequireNotStarted(op, "stop the port first");
            var info = GetInfo();
            if (rxQueues < 0 || rxQueues > info.MaxRxQueues)
            {
                throw Fail(op, $"{rxQueues} Rx queues requested, the port supports 0..{info.MaxRxQueues}", Errno.EINVAL);
            }

            if (txQueues < 0 || txQueues > info.MaxTxQueues)
            {
                throw Fail(op, $"{txQueues} Tx queues requested, the port supports 0..{info.MaxTxQueues}", Errno.EINVAL);
            }

            if (rxQueues == 0 && txQueues == 0)
            {
                throw Fail(op, "at least one Rx or Tx queue is needed", Errno.EINVAL);
            }

            var badRx = conf.RxOffloads & ~info.RxOffloadCapabilities;
            if (badRx != RxOffloads.None)
            {
                throw Fail(op, $"Rx offloads {badRx} not supported (supported: {info.RxOffloadCapabilities})", Errno.EINVAL);
            }

            var badTx = conf.TxOffloads & ~info.TxOffloadCapabilities;
            if (badTx != TxOffloads.None)
            {
                throw Fail(op, $"Tx offloads {badTx} not supported (supported: {info.TxOffloadCapabilities})", Errno.EINVAL);
            }

            if (conf.Rss is { } rss && (rss.HashFunctions & ~info.RssHashCapabilities) != RssHashFunctions.None)
            {
                throw Fail(op, $"RSS hash functions {rss.HashFunctions & ~info.RssHashCapabilities} not supported (supported: {info.RssHashCapabilities})", Errno.EINVAL);
            }

            if (conf.Mtu is { } mtu)
            {
                CheckMtu(op, mtu, info);
            }

            if (conf.LinkStatusEvents && !info.SupportsLinkStatusEvents)
            {
                throw Fail(op, "link status events requested but the driver cannot raise them", Errno.EINVAL);
            }

            if (conf.RemovalEvents && !info.SupportsRemovalEvents)
            {
                throw Fail(op, "removal events requested but the driver cannot raise them", Errno.EINVAL);
            }

            Call(op, () => OnConfigure(rxQueues, txQueues, conf));
            ReleaseQueues();
            this.rxQueues = new EthRxQueue?[rxQueues];
            this.txQueues = new EthTxQueue?[txQueues];
            rxBaseline = new QueueSnapshot[rxQueues];
            txBaseline = new QueueSnapshot[txQueues];
            Configuration = conf;
            if (conf.Mtu is { } newMtu)
            {
                Mtu = newMtu;
            }

            state = EthDevState.Configured;
        }
    }

    /// <summary>Sets up Rx queue <paramref name="queueId"/> with <paramref name="descriptors"/> descriptors, taking mbufs from <paramref name="pool"/>.</summary>
    public void SetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf? conf = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        conf ??= RxQueueConf.Default;
        lock (controlLock)
        {
            const string op = "Rx queue setup";
            CheckControl(op);
            RequireState(op, EthDevState.Configured, "configure the port first, and stop it if started");
            if ((uint)queueId >= (uint)rxQueues.Length)
            {
                throw Fail(op, $"queue {queueId} does not exist (configured Rx queues: {rxQueues.Length})", Errno.EINVAL);
            }

            var info = GetInfo();
            if (descriptors < info.MinRxDescriptors || descriptors > info.MaxRxDescriptors)
            {
                throw Fail(op, $"{descriptors} descriptors out of range {info.MinRxDescriptors}..{info.MaxRxDescriptors}", Errno.EINVAL);
            }

            if (!pool.IsPacketPool)
            {
                throw Fail(op, $"mempool '{pool.Name}' holds plain objects, not mbufs", Errno.EINVAL);
            }

            var bad = conf.Offloads & ~info.RxOffloadCapabilities;
            if (bad != RxOffloads.None)
            {
                throw Fail(op, $"Rx queue offloads {bad} not supported", Errno.EINVAL);
            }

            rxQueues[queueId]?.Release();
            rxQueues[queueId] = null;
            var q = Call(op, () => OnSetupRxQueue(queueId, descriptors, pool, conf));
            rxQueues[queueId] = q;
            rxBaseline[queueId] = q.Counters.Read();
        }
    }

    /// <summary>Sets up Tx queue <paramref name="queueId"/> with <paramref name="descriptors"/> descriptors.</summary>
    public void SetupTxQueue(int queueId, int descriptors, TxQueueConf? conf = null)
    {
        conf ??= TxQueueConf.Default;
        lock (controlLock)
        {
            const string op = "Tx queue setup";
            CheckControl(op);
            RequireState(op, EthDevState.Configured, "configure the port first, and stop it if started");
            if ((uint)queueId >= (uint)txQueues.Length)
            {
                throw Fail(op, $"queue {queueId} does not exist (configured Tx queues: {txQueues.Length})", Errno.EINVAL);
            }

            var info = GetInfo();
            if (descriptors < info.MinTxDescriptors || descriptors > info.MaxTxDescriptors)
            {
                throw Fail(op, $"{descriptors} descriptors out of range {info.MinTxDescriptors}..{info.MaxTxDescriptors}", Errno.EINVAL);
            }

            var bad = conf.Offloads & ~info.TxOffloadCapabilities;
            if (bad != TxOffloads.None)
            {
                throw Fail(op, $"Tx queue offloads {bad} not supported", Errno.EINVAL);
            }

            txQueues[queueId]?.Release();
            txQueues[queueId] = null;
            var q = Call(op, () => OnSetupTxQueue(queueId, descriptors, conf));
            txQueues[queueId] = q;
            txBaseline[queueId] = q.Counters.Read();
        }
    }

    /// <summary>Starts the port (rte_eth_dev_start). Every configured queue must be set up. Starting a started port does nothing.</summary>
    public void Start()
    {
        lock (controlLock)
        {
            const string op = "start";
            CheckControl(op);
            if (state == EthDevState.Started)
            {
                return;
            }

            RequireState(op, EthDevState.Configured, "configure the port and set up its queues first");
            for (int i = 0; i < rxQueues.Length; i++)
            {
                if (rxQueues[i] is null)
                {
                    throw Fail(op, $"Rx queue {i} is not set up", Errno.EINVAL);
                }
            }

            for (int i = 0; i < txQueues.Length; i++)
            {
                if (txQueues[i] is null)
                {
                    throw Fail(op, $"Tx queue {i} is not set up", Errno.EINVAL);
                }
            }

            Call(op, OnStart);
            activeRx = [.. rxQueues.Select(q => q!)];
            activeTx = [.. txQueues.Select(q => q!)];
            state = EthDevState.Started;
        }
    }

    /// <summary>
    /// Stops the port. Bursts that start from now on return 0; bursts already running on other lcores are
    /// waited for before the driver stops, so it never frees what they use. Stopping a stopped port does nothing.
    /// </summary>
    public void Stop()
    {
        lock (controlLock)
        {
            const string op = "stop";
            CheckControl(op);
            if (state != EthDevState.Started)
            {
                return;
            }

            QuiesceBursts(op);
            state = EthDevState.Configured;
            Call(op, OnStop);
        }
    }

    /// <summary>
    /// Stops (if started) and closes the port, releasing its queues. Closing twice does nothing. The port is
    /// closed and released even when the driver's stop or close fails (a removed device cannot answer);
    /// the first such failure is thrown afterwards, as DPDK's rte_eth_dev_close returns it.
    /// </summary>
    public void Close()
    {
        ExceptionDispatchInfo? failure = null;
        lock (controlLock)
        {
            if (state == EthDevState.Closed)
            {
                return;
            }

            CheckOwner("close");
            if (state == EthDevState.Started)
            {
                QuiesceBursts("close");
                failure = Attempt("stop", OnStop);
            }

            StatsAtClose = TryGetStats();
            ReleaseQueues();
            state = EthDevState.Closed;
            var closeFailure = Attempt("close", OnClose);
            failure ??= closeFailure;
        }

        Closed?.Invoke(this, EventArgs.Empty);
        failure?.Throw();
    }

    /// <summary>How long Stop/Close/Reset wait for an lcore to leave a burst before giving up (with nothing freed).</summary>
    public static TimeSpan BurstQuiesceTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Takes the queues away from the data path and waits until no lcore is inside a burst on any of them, so
    /// the driver may free what the bursts use. A burst that started before the swap finishes normally; one
    /// that starts after it returns 0. If an lcore stays inside a burst past <see cref="BurstQuiesceTimeout"/>
    /// (a driver bug), the operation fails and nothing is released: a leak, never a use after free.
    /// </summary>
    /// <remarks>
    /// An asymmetric Dekker pair (the membarrier(2) pattern): a burst stores its in-use flag and then re-reads the
    /// active queues with no fence between them; here the swap is followed by a process-wide barrier
    /// (<see cref="Interlocked.MemoryBarrierProcessWide"/>), which makes every thread's earlier stores visible. So
    /// either the burst's re-check sees the swap (and does nothing), or its flag is seen below and waited for.
    /// The costly fence is paid once per stop here instead of once per burst on the data path.
    /// </remarks>
    private void QuiesceBursts(string op)
    {
        EthRxQueue[] rx = Interlocked.Exchange(ref activeRx, NoRxQueues);
        EthTxQueue[] tx = Interlocked.Exchange(ref activeTx, NoTxQueues);
        Interlocked.MemoryBarrierProcessWide();
        long deadline = Environment.TickCount64 + (long)BurstQuiesceTimeout.TotalMilliseconds;
        var spin = default(SpinWait);
        for (int i = 0; i < rx.Length; i++)
        {
            while (Volatile.Read(ref rx[i].InUse) != 0)
            {
                if (Environment.TickCount64 > deadline)
                {
                    throw Fail(op, string.Create(CultureInfo.InvariantCulture, $"an lcore is still inside an Rx burst on queue {i} after {BurstQuiesceTimeout.TotalSeconds:0} s; its resources are kept"), Errno.EBUSY);
                }

                spin.SpinOnce();
            }
        }

        for (int i = 0; i < tx.Length; i++)
        {
            while (Volatile.Read(ref tx[i].InUse) != 0)
            {
                if (Environment.TickCount64 > deadline)
                {
                    throw Fail(op, string.Create(CultureInfo.InvariantCulture, $"an lcore is still inside a Tx burst on queue {i} after {BurstQuiesceTimeout.TotalSeconds:0} s; its resources are kept"), Errno.EBUSY);
                }

                spin.SpinOnce();
            }
        }
    }

    /// <summary>Closes the port as its owner would (the bus and the runtime tear down owned ports too).</summary>
    internal void CloseOnBehalfOfOwner()
    {
        if (Owner is { } owner)
        {
            using (owner.Enter())
            {
                Close();
            }
        }
        else
        {
            Close();
        }
    }

    /// <summary>Resets the device (rte_eth_dev_reset): stops it, lets the driver recover, and leaves it unconfigured.</summary>
    public void Reset()
    {
        lock (controlLock)
        {
            const string op = "reset";
            CheckControl(op);
            if (state == EthDevState.Started)
            {
                // As Stop: the port is stopped even if the driver's stop fails (then the reset goes no further).
                QuiesceBursts(op);
                state = EthDevState.Configured;
                Call("stop", OnStop);
            }

            ReleaseQueues();
            rxQueues = [];
            txQueues = [];
            Configuration = null;
            state = EthDevState.Unconfigured; // queues and configuration are gone, whether or not the driver's reset succeeds
            Call(op, OnReset);
        }
    }

    /// <summary>Current link state (rte_eth_link_get_nowait).</summary>
    public LinkStatus GetLink()
    {
        CheckNotClosed("link get");
        return State == EthDevState.Started ? OnGetLink() : LinkStatus.Down;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the link to come up (rte_eth_link_get); returns the last state seen.</summary>
    public LinkStatus WaitForLink(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var link = GetLink();
            if (link.IsUp || Environment.TickCount64 >= deadline)
            {
                return link;
            }

            Thread.Sleep(10);
        }
    }

    public void SetLinkUp() => ControlOp("link up", OnSetLinkUp);

    public void SetLinkDown() => ControlOp("link down", OnSetLinkDown);

    public void EnablePromiscuous() => ControlOp("promiscuous enable", () => { OnSetPromiscuous(true); Promiscuous = true; });

    public void DisablePromiscuous() => ControlOp("promiscuous disable", () => { OnSetPromiscuous(false); Promiscuous = false; });

    public void EnableAllMulticast() => ControlOp("all-multicast enable", () => { OnSetAllMulticast(true); AllMulticast = true; });

    public void DisableAllMulticast() => ControlOp("all-multicast disable", () => { OnSetAllMulticast(false); AllMulticast = false; });

    /// <summary>Sets the primary MAC address (rte_eth_dev_default_mac_addr_set).</summary>
    public void SetMacAddress(MacAddress mac)
    {
        const string op = "MAC address set";
        if (!mac.IsUnicast || mac.IsZero)
        {
            throw Fail(op, $"{mac} is not a unicast address", Errno.EINVAL);
        }

        ControlOp(op, () => { OnSetMacAddress(mac); MacAddress = mac; });
    }

    /// <summary>Adds a secondary unicast MAC address to filter on (rte_eth_dev_mac_addr_add).</summary>
    public void AddMacAddress(MacAddress mac)
    {
        const string op = "MAC address add";
        if (!mac.IsUnicast || mac.IsZero)
        {
            throw Fail(op, $"{mac} is not a unicast address", Errno.EINVAL);
        }

        ControlOp(op, () =>
        {
            if (mac == MacAddress || extraMacs.Contains(mac))
            {
                return;
            }

            if (extraMacs.Count + 1 >= GetInfo().MaxMacAddresses)
            {
                throw Fail(op, $"the port filters at most {GetInfo().MaxMacAddresses} MAC addresses", Errno.ENOSPC);
            }

            OnAddMacAddress(mac);
            extraMacs.Add(mac);
        });
    }

    public void RemoveMacAddress(MacAddress mac)
    {
        const string op = "MAC address remove";
        ControlOp(op, () =>
        {
            if (mac == MacAddress)
            {
                throw Fail(op, $"{mac} is the primary address; set another one instead", Errno.EADDRINUSE);
            }

            if (extraMacs.Contains(mac))
            {
                OnRemoveMacAddress(mac);
                extraMacs.Remove(mac);
            }
        });
    }

    /// <summary>Replaces the multicast addresses the port accepts (rte_eth_dev_set_mc_addr_list).</summary>
    public void SetMulticastList(IReadOnlyList<MacAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        const string op = "multicast list set";
        foreach (var a in addresses)
        {
            if (!a.IsMulticast)
            {
                throw Fail(op, $"{a} is not a multicast address", Errno.EINVAL);
            }
        }

        ControlOp(op, () =>
        {
            MacAddress[] copy = [.. addresses];
            OnSetMulticastList(copy);
            multicastList = copy;
        });
    }

    /// <summary>Sets the MTU (rte_eth_dev_set_mtu).</summary>
    public void SetMtu(int mtu)
    {
        const string op = "MTU set";
        ControlOp(op, () =>
        {
            CheckMtu(op, mtu, GetInfo());
            OnSetMtu(mtu);
            Mtu = mtu;
        });
    }

    /// <summary>Port statistics since probe or the last <see cref="ResetStats"/>.</summary>
    public EthStats GetStats()
    {
        CheckNotClosed("stats get");
        lock (controlLock)
        {
            var rx = new QueueSnapshot[rxQueues.Length];
            var tx = new QueueSnapshot[txQueues.Length];
            QueueSnapshot rxSum = default, txSum = default;
            for (int i = 0; i < rx.Length; i++)
            {
                rx[i] = rxQueues[i] is { } q ? q.Counters.Read() - rxBaseline[i] : default;
                rxSum += rx[i];
            }

            for (int i = 0; i < tx.Length; i++)
            {
                tx[i] = txQueues[i] is { } q ? q.Counters.Read() - txBaseline[i] : default;
                txSum += tx[i];
            }

            var stats = new EthStats
            {
                RxPackets = rxSum.Packets,
                RxBytes = rxSum.Bytes,
                RxErrors = rxSum.Errors,
                RxNoMbuf = rxSum.NoMbuf,
                RxMissed = rxSum.Missed,
                TxPackets = txSum.Packets,
                TxBytes = txSum.Bytes,
                TxErrors = txSum.Errors,
                RxQueues = rx,
                TxQueues = tx,
            };
            return OnAdjustStats(stats);
        }
    }

    /// <summary>
    /// The statistics as they were when the port was closed (null before), so whoever aggregates ports
    /// (failsafe) loses nothing counted between its last read and a close it did not do itself.
    /// </summary>
    public EthStats? StatsAtClose { get; private set; }

    private EthStats? TryGetStats()
    {
        try
        {
            return GetStats();
        }
        catch (Exception ex) when (ex is EthDevException or LinuxException or IOException or InvalidOperationException)
        {
            return null; // a driver that cannot count any more (device gone) leaves no final snapshot
        }
    }

    /// <summary>Zeroes the statistics as seen through <see cref="GetStats"/> and <see cref="GetXStats"/>.</summary>
    public void ResetStats()
    {
        CheckNotClosed("stats reset");
        lock (controlLock)
        {
            for (int i = 0; i < rxQueues.Length; i++)
            {
                rxBaseline[i] = rxQueues[i]?.Counters.Read() ?? default;
            }

            for (int i = 0; i < txQueues.Length; i++)
            {
                txBaseline[i] = txQueues[i]?.Counters.Read() ?? default;
            }

            OnResetStats();
        }
    }

    /// <summary>Extended statistics: DPDK's generic names (rx_good_packets, rx_q0_packets, ...) then the driver's own.</summary>
    public IReadOnlyList<XStat> GetXStats()
    {
        var s = GetStats();
        var list = new List<XStat>
        {
            new("rx_good_packets", s.RxPackets),
            new("tx_good_packets", s.TxPackets),
            new("rx_good_bytes", s.RxBytes),
            new("tx_good_bytes", s.TxBytes),
            new("rx_missed_errors", s.RxMissed),
            new("rx_errors", s.RxErrors),
            new("tx_errors", s.TxErrors),
            new("rx_mbuf_allocation_errors", s.RxNoMbuf),
        };
        for (int i = 0; i < s.RxQueues.Count; i++)
        {
            list.Add(new(Q("rx", i, "packets"), s.RxQueues[i].Packets));
            list.Add(new(Q("rx", i, "bytes"), s.RxQueues[i].Bytes));
            list.Add(new(Q("rx", i, "errors"), s.RxQueues[i].Errors));
        }

        for (int i = 0; i < s.TxQueues.Count; i++)
        {
            list.Add(new(Q("tx", i, "packets"), s.TxQueues[i].Packets));
            list.Add(new(Q("tx", i, "bytes"), s.TxQueues[i].Bytes));
        }

        OnAddXStats(list);
        return list;

        static string Q(string dir, int q, string what) => string.Create(CultureInfo.InvariantCulture, $"{dir}_q{q}_{what}");
    }

    /// <summary>Names of the extended statistics, in the order of <see cref="GetXStats"/>.</summary>
    public IReadOnlyList<string> GetXStatNames() => [.. GetXStats().Select(x => x.Name)];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"port {PortId} ({Name}, {DriverName})");

    /// <summary>Raised after the port is closed (the registry unregisters it).</summary>
    internal event EventHandler? Closed;

    /// <summary>Raises an event on this port to its subscribers. Drivers call this from control threads.</summary>
    protected internal void RaiseEvent(EthDevEventType type, string? detail = null)
    {
        EventRaised?.Invoke(this, new EthDevEventArgs(PortId, Name, type, detail));
    }

    // ---------------- driver hooks ----------------

    /// <summary>Capabilities and limits of this device.</summary>
    protected abstract EthDevInfo GetInfo();

    protected virtual void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
    }

    protected abstract EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf);

    protected abstract EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf);

    protected virtual void OnStart()
    {
    }

    protected virtual void OnStop()
    {
    }

    protected virtual void OnClose()
    {
    }

    protected virtual void OnReset()
    {
    }

    /// <summary>The link as the driver sees it; the base reports it down while the port is stopped.</summary>
    protected virtual LinkStatus OnGetLink() => LinkStatus.Up(LinkSpeed.Unknown);

    protected virtual void OnSetLinkUp() => throw NotSupported("link up");

    protected virtual void OnSetLinkDown() => throw NotSupported("link down");

    protected virtual void OnSetPromiscuous(bool enable)
    {
    }

    protected virtual void OnSetAllMulticast(bool enable)
    {
    }

    protected virtual void OnSetMacAddress(MacAddress mac)
    {
    }

    protected virtual void OnAddMacAddress(MacAddress mac) => throw NotSupported("MAC address add");

    protected virtual void OnRemoveMacAddress(MacAddress mac) => throw NotSupported("MAC address remove");

    protected virtual void OnSetMulticastList(IReadOnlyList<MacAddress> addresses) => throw NotSupported("multicast list set");

    protected virtual void OnSetMtu(int mtu)
    {
    }

    /// <summary>Lets a driver add device-level counters (e.g. imissed read from the kernel) to the queue sums.</summary>
    protected virtual EthStats OnAdjustStats(EthStats stats) => stats;

    protected virtual void OnResetStats()
    {
    }

    /// <summary>Lets a driver append its own extended statistics.</summary>
    protected virtual void OnAddXStats(List<XStat> xstats)
    {
    }

    /// <summary>A locally administered unicast MAC derived from <paramref name="name"/> (FNV-1a), stable across runs.</summary>
    protected static MacAddress MacFromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        uint h = 2166136261;
        foreach (char c in name)
        {
            h = (h ^ c) * 16777619;
        }

        return MacAddress.FromUInt64(0x02_00_00_00_00_00UL | h);
    }

    /// <summary>
    /// Sets the primary MAC of a port that learns it only during probe (failsafe takes its first
    /// sub-device's). Only during probe, before the port was ever configured; later use <see cref="SetMacAddress"/>.
    /// </summary>
    protected void InitializeMacAddress(MacAddress mac)
    {
        if (state != EthDevState.Unconfigured || Configuration is not null)
        {
            throw new InvalidOperationException($"{Name}: the MAC address can only be initialised during probe");
        }

        MacAddress = mac;
    }

    protected EthDevNotSupportedException NotSupported(string operation) => new(PortId, Name, operation, DriverName);

    protected EthDevException Fail(string operation, string reason, Errno error = Errno.None) => new(PortId, Name, operation, reason, error);

    private void CheckMtu(string op, int mtu, EthDevInfo info)
    {
        if (mtu < info.MinMtu || mtu > info.MaxMtu)
        {
            throw Fail(op, string.Create(CultureInfo.InvariantCulture, $"MTU {mtu} out of range {info.MinMtu}..{info.MaxMtu}"), Errno.EINVAL);
        }
    }

    private void ControlOp(string op, Action action)
    {
        lock (controlLock)
        {
            CheckControl(op);
            Call(op, action);
        }
    }

    private void Call(string op, Action action) => Call(op, () => { action(); return 0; });

    /// <summary>Runs a driver hook of a teardown that must go on when the hook fails; returns what it threw.</summary>
    private ExceptionDispatchInfo? Attempt(string op, Action action)
    {
        try
        {
            Call(op, action);
            return null;
        }
        catch (Exception ex)
        {
            return ExceptionDispatchInfo.Capture(ex);
        }
    }

    private T Call<T>(string op, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (EthDevException)
        {
            throw;
        }
        catch (ArgumentException ex)
        {
            throw Fail(op, ex.Message, Errno.EINVAL);
        }
        catch (LinuxException ex)
        {
            throw new EthDevException(PortId, Name, op, ex.Message, ex.Error, ex);
        }
        catch (NotSupportedException)
        {
            throw NotSupported(op);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or TimeoutException or UnauthorizedAccessException)
        {
            throw new EthDevException(PortId, Name, op, ex.Message, Errno.EIO, ex);
        }
    }

    private void ReleaseQueues()
    {
        foreach (var q in rxQueues)
        {
            q?.Release();
        }

        foreach (var q in txQueues)
        {
            q?.Release();
        }

        Array.Clear(rxQueues);
        Array.Clear(txQueues);
    }

    private void CheckControl(string op)
    {
        CheckNotClosed(op);
        CheckOwner(op);
    }

    private void CheckNotClosed(string op)
    {
        if (State == EthDevState.Closed)
        {
            throw new EthDevStateException(PortId, Name, op, EthDevState.Closed, "the port is closed");
        }
    }

    private void CheckOwner(string op)
    {
        var owner = Owner;
        if (owner is not null && !ReferenceEquals(owner, EthDevOwner.Current))
        {
            throw new EthDevException(PortId, Name, op, $"the port is owned by {owner.Name}; use it through its owner", Errno.EPERM);
        }
    }

    private void RequireNotStarted(string op, string hint)
    {
        if (state == EthDevState.Started)
        {
            throw new EthDevStateException(PortId, Name, op, state, hint);
        }
    }

    private void RequireState(string op, EthDevState required, string hint)
    {
        if (state != required)
        {
            throw new EthDevStateException(PortId, Name, op, state, hint);
        }
    }
}
