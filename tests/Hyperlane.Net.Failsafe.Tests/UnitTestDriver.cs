using System.Collections.Concurrent;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// Knobs of one device name. They live in the <see cref="UnitTestDriver"/>, so a device that the failsafe
/// port tears down and probes again gets the same behaviour (a sub-device that keeps failing, a gated burst).
/// </summary>
public sealed class UnitKnobs
{
    /// <summary>Hooks that throw InvalidOperationException: configure, rxsetup, txsetup, start, stop, close.</summary>
    public ConcurrentDictionary<string, bool> Fail { get; } = new(StringComparer.Ordinal);

    /// <summary>Operations the device does not support: mtu, mac, macadd, promiscuous, allmulticast, multicast, linkdown.</summary>
    public ConcurrentDictionary<string, bool> Unsupported { get; } = new(StringComparer.Ordinal);

    /// <summary>Rx makes packets from the queue's pool (first data byte = <see cref="Tag"/>).</summary>
    public volatile bool Generate;

    public byte Tag { get; set; }

    public volatile bool LinkUp = true;

    /// <summary>While non-null, an Rx burst on the device stops inside the driver until the gate is set.</summary>
    public volatile ManualResetEventSlim? RxGate;

    /// <summary>Set when an Rx burst reached the gate.</summary>
    public ManualResetEventSlim RxEntered { get; } = new();
}

/// <summary>
/// <c>net_utest</c>: ports for the failsafe unit tests. Rx makes packets on demand, Tx frees and counts,
/// hooks fail or are unsupported on demand, and the test can raise removal and link events.
/// Devargs: <c>fail</c> (probe always fails).
/// </summary>
public sealed class UnitTestDriver : IVdevDriver
{
    public const string DriverName = "net_utest";

    private readonly ConcurrentDictionary<string, UnitKnobs> knobs = new(StringComparer.Ordinal);
    private readonly List<UnitEthDev> created = [];
    private readonly Lock sync = new();
    private volatile Exception? probeFailure;
    private int probes;

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = [];

    public string Description => "failsafe unit-test ports";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName).Bool("fail");

    /// <summary>Thrown by every probe while set.</summary>
    public Exception? ProbeFailure
    {
        get => probeFailure;
        set => probeFailure = value;
    }

    /// <summary>Probes attempted so far (failed ones included).</summary>
    public int Probes => Volatile.Read(ref probes);

    public UnitKnobs Knobs(string name) => knobs.GetOrAdd(name, _ => new UnitKnobs());

    /// <summary>How many ports of that name were created.</summary>
    public int CreatedCount(string name)
    {
        lock (sync)
        {
            return created.Count(d => d.Name == name);
        }
    }

    /// <summary>The last port created with that name.</summary>
    public UnitEthDev Latest(string name)
    {
        lock (sync)
        {
            return created.Last(d => d.Name == name);
        }
    }

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Interlocked.Increment(ref probes);
        if (probeFailure is { } failure)
        {
            throw failure;
        }

        if (context.Values.GetBool("fail"))
        {
            throw new InvalidOperationException("the unit test driver was told to fail (fail=1)");
        }

        var dev = new UnitEthDev(context.DeviceName, Knobs(context.DeviceName));
        lock (sync)
        {
            created.Add(dev);
        }

        return [dev];
    }
}

/// <summary>The port of <see cref="UnitTestDriver"/>.</summary>
public sealed class UnitEthDev : EthDev
{
    public UnitEthDev(string name, UnitKnobs knobs)
        : base(name, UnitTestDriver.DriverName, MacFromName(name))
    {
        Knobs = knobs;
    }

    public UnitKnobs Knobs { get; }

    /// <summary>What the driver was asked to do, in order (configure, start, stop, close, receive-begin...).</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    public static EthDevInfo DefaultInfo { get; } = new()
    {
        DriverName = UnitTestDriver.DriverName,
        MaxRxQueues = 4,
        MaxTxQueues = 4,
        MinRxDescriptors = 1,
        MaxRxDescriptors = 4096,
        MinTxDescriptors = 1,
        MaxTxDescriptors = 4096,
        MinMtu = 68,
        MaxMtu = 9000,
        MaxMacAddresses = 4,
        MaxTxSegments = 8,
        RxOffloadCapabilities = RxOffloads.Checksum,
        TxOffloadCapabilities = TxOffloads.Checksum,
        SupportsLinkStatusEvents = true,
        SupportsRemovalEvents = true,
        SpeedCapabilities = [LinkSpeed.Gbps25],
    };

    /// <summary>As the driver's interrupt handler would when the device is unplugged.</summary>
    public void RaiseRemoval(string detail) => RaiseEvent(EthDevEventType.Removal, detail);

    public void RaiseResetRequired() => RaiseEvent(EthDevEventType.ResetRequired, "reset required");

    public void RaiseLinkChange(bool up)
    {
        Knobs.LinkUp = up;
        RaiseEvent(EthDevEventType.LinkStatusChange, up ? "link up" : "link down");
    }

    protected override EthDevInfo GetInfo() => DefaultInfo;

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf) => Hook("configure");

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        Hook("rxsetup");
        return new UnitRxQueue(this, queueId, descriptors, pool);
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        Hook("txsetup");
        return new UnitTxQueue(queueId, descriptors);
    }

    protected override void OnStart() => Hook("start");

    protected override void OnStop() => Hook("stop");

    protected override void OnClose() => Hook("close");

    protected override void OnReset() => Hook("reset");

    protected override LinkStatus OnGetLink() => Knobs.LinkUp ? LinkStatus.Up(LinkSpeed.Gbps25) : LinkStatus.Down;

    protected override void OnSetLinkUp() => Op("linkup", "link up");

    protected override void OnSetLinkDown() => Op("linkdown", "link down");

    protected override void OnSetPromiscuous(bool enable) => Op("promiscuous", "promiscuous");

    protected override void OnSetAllMulticast(bool enable) => Op("allmulticast", "all-multicast");

    protected override void OnSetMacAddress(MacAddress mac) => Op("mac", "MAC address set");

    protected override void OnAddMacAddress(MacAddress mac) => Op("macadd", "MAC address add");

    protected override void OnRemoveMacAddress(MacAddress mac) => Op("macremove", "MAC address remove");

    protected override void OnSetMulticastList(IReadOnlyList<MacAddress> addresses) => Op("multicast", "multicast list set");

    protected override void OnSetMtu(int mtu) => Op("mtu", "MTU set");

    private void Hook(string name)
    {
        Events.Enqueue(name);
        if (Knobs.Fail.ContainsKey(name))
        {
            throw new InvalidOperationException($"{Name}: {name} was told to fail");
        }
    }

    private void Op(string knob, string operation)
    {
        if (Knobs.Unsupported.ContainsKey(knob))
        {
            throw NotSupported(operation);
        }

        Events.Enqueue(knob);
    }

    private sealed class UnitRxQueue(UnitEthDev dev, int queueId, int descriptors, Mempool pool) : EthRxQueue(queueId, descriptors, pool)
    {
        public override int Receive(Span<Mbuf> packets)
        {
            if (dev.Knobs.RxGate is { } gate)
            {
                dev.Events.Enqueue("receive-begin");
                dev.Knobs.RxEntered.Set();
                gate.Wait(TimeSpan.FromSeconds(10));
                dev.Events.Enqueue("receive-end");
                return 0;
            }

            if (!dev.Knobs.Generate || packets.IsEmpty)
            {
                return 0;
            }

            if (Pool.AllocBulk(packets) == 0)
            {
                Counters.NoMbuf += packets.Length;
                return 0;
            }

            for (int i = 0; i < packets.Length; i++)
            {
                ref MbufHeader h = ref packets[i].Header;
                h.DataLen = 64;
                h.PktLen = 64;
                h.Port = dev.PortId;
                packets[i].Data[0] = dev.Knobs.Tag;
            }

            Counters.Packets += packets.Length;
            Counters.Bytes += packets.Length * 64L;
            return packets.Length;
        }

        public override void Release() => dev.Events.Enqueue("release-rx");
    }

    private sealed class UnitTxQueue(int queueId, int descriptors) : EthTxQueue(queueId, descriptors)
    {
        public override int Transmit(ReadOnlySpan<Mbuf> packets)
        {
            long bytes = 0;
            for (int i = 0; i < packets.Length; i++)
            {
                bytes += packets[i].PacketLength;
            }

            Mbuf.FreeBulk(packets);
            Counters.Packets += packets.Length;
            Counters.Bytes += bytes;
            return packets.Length;
        }
    }
}
