using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Core.Tests;

/// <summary>
/// A port for tests: in-memory queues (<see cref="TestRxQueue"/>, <see cref="TestTxQueue"/>), call counts,
/// and hooks that can be told to throw (<see cref="FailOn"/>). Link up/down are left to the base class,
/// so they are "not supported"; multicast can be switched off with <see cref="SupportsMulticast"/>.
/// </summary>
public sealed class TestEthDev : EthDev
{
    public const string DefaultDriverName = "net_test";

    private readonly Dictionary<TestHook, Exception> failures = [];
    private long missedBaseline;

    public TestEthDev(string name, EthDevInfo? info = null, string driverName = DefaultDriverName)
        : base(name, driverName, MacFromName(name))
    {
        DeviceInfo = info ?? DefaultInfo(driverName);
    }

    /// <summary>What <see cref="EthDev.Info"/> reports; tests may replace it.</summary>
    public EthDevInfo DeviceInfo { get; set; }

    public bool SupportsMulticast { get; set; } = true;

    public bool LinkUp { get; set; } = true;

    public int ConfigureCalls { get; private set; }

    public int StartCalls { get; private set; }

    public int StopCalls { get; private set; }

    public int CloseCalls { get; private set; }

    public int ResetCalls { get; private set; }

    public bool? DriverPromiscuous { get; private set; }

    public bool? DriverAllMulticast { get; private set; }

    public int? DriverMtu { get; private set; }

    public MacAddress? DriverMac { get; private set; }

    public List<MacAddress> DriverExtraMacs { get; } = [];

    public IReadOnlyList<MacAddress>? DriverMulticast { get; private set; }

    /// <summary>A device-level drop counter (as a NIC's imissed register), added to the stats by <see cref="OnAdjustStats"/>.</summary>
    public long DeviceMissed { get; set; }

    public static EthDevInfo DefaultInfo(string driverName = DefaultDriverName) => new()
    {
        DriverName = driverName,
        MaxRxQueues = 4,
        MaxTxQueues = 4,
        MinRxDescriptors = 32,
        MaxRxDescriptors = 4096,
        MinTxDescriptors = 32,
        MaxTxDescriptors = 4096,
        MinMtu = 68,
        MaxMtu = 9000,
        MaxMacAddresses = 4,
        RxOffloadCapabilities = RxOffloads.Checksum | RxOffloads.VlanStrip,
        TxOffloadCapabilities = TxOffloads.Checksum,
        RssHashCapabilities = RssHashFunctions.Ip,
        RssKeySize = 40,
        SupportsLinkStatusEvents = true,
    };

    /// <summary>Makes <paramref name="hook"/> throw <paramref name="error"/> until <see cref="ClearFailure"/>.</summary>
    public void FailOn(TestHook hook, Exception error) => failures[hook] = error;

    public void ClearFailure(TestHook hook) => failures.Remove(hook);

    public TestRxQueue Rx(int queueId) => (TestRxQueue)RxQueues[queueId]!;

    public TestTxQueue Tx(int queueId) => (TestTxQueue)TxQueues[queueId]!;

    /// <summary>As a driver's interrupt handler would on a link change.</summary>
    public void RaiseLinkChange(bool up)
    {
        LinkUp = up;
        RaiseEvent(EthDevEventType.LinkStatusChange, up ? "link up" : "link down");
    }

    public void RaiseRemoval(string detail) => RaiseEvent(EthDevEventType.Removal, detail);

    protected override EthDevInfo GetInfo() => DeviceInfo;

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
        Check(TestHook.Configure);
        ConfigureCalls++;
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        Check(TestHook.SetupRx);
        return new TestRxQueue(queueId, descriptors, pool, PortId);
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        Check(TestHook.SetupTx);
        return new TestTxQueue(queueId, descriptors);
    }

    protected override void OnStart()
    {
        Check(TestHook.Start);
        StartCalls++;
    }

    protected override void OnStop()
    {
        StopCalls++;
        Check(TestHook.Stop);
    }

    protected override void OnClose()
    {
        CloseCalls++;
        Check(TestHook.Close);
    }

    protected override void OnReset()
    {
        ResetCalls++;
        Check(TestHook.Reset);
    }

    protected override LinkStatus OnGetLink() => LinkUp ? LinkStatus.Up(LinkSpeed.Gbps25) : LinkStatus.Down;

    protected override void OnSetPromiscuous(bool enable)
    {
        Check(TestHook.SetPromiscuous);
        DriverPromiscuous = enable;
    }

    protected override void OnSetAllMulticast(bool enable) => DriverAllMulticast = enable;

    protected override void OnSetMacAddress(MacAddress mac)
    {
        Check(TestHook.SetMac);
        DriverMac = mac;
    }

    protected override void OnAddMacAddress(MacAddress mac) => DriverExtraMacs.Add(mac);

    protected override void OnRemoveMacAddress(MacAddress mac) => DriverExtraMacs.Remove(mac);

    protected override void OnSetMulticastList(IReadOnlyList<MacAddress> addresses)
    {
        if (!SupportsMulticast)
        {
            base.OnSetMulticastList(addresses);
        }

        DriverMulticast = addresses;
    }

    protected override void OnSetMtu(int mtu)
    {
        Check(TestHook.SetMtu);
        DriverMtu = mtu;
    }

    protected override EthStats OnAdjustStats(EthStats stats) => stats with { RxMissed = stats.RxMissed + DeviceMissed - missedBaseline };

    protected override void OnResetStats() => missedBaseline = DeviceMissed;

    protected override void OnAddXStats(List<XStat> xstats) => xstats.Add(new XStat("test_device_missed", DeviceMissed - missedBaseline));

    private void Check(TestHook hook)
    {
        if (failures.TryGetValue(hook, out var error))
        {
            throw error;
        }
    }
}
