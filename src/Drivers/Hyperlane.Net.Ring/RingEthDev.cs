using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Ring;

/// <summary>The port behind <see cref="RingDriver"/>. Bursts only move mbuf handles, as DPDK's ring PMD (bytes are not counted).</summary>
public sealed class RingEthDev : EthDev
{
    private const int MaxQueues = 16;
    private readonly RingDriver driver;
    private readonly string rxName;
    private readonly string txName;
    private readonly int size;
    private readonly List<string> held = [];

    internal RingEthDev(string name, RingDriver driver, string rxName, string txName, int size)
        : base(name, RingDriver.DriverName, MacFromName(name))
    {
        this.driver = driver;
        this.rxName = rxName;
        this.txName = txName;
        this.size = size;
    }

    public string RxRingName => rxName;

    public string TxRingName => txName;

    protected override EthDevInfo GetInfo() => new()
    {
        DriverName = RingDriver.DriverName,
        MaxRxQueues = MaxQueues,
        MaxTxQueues = MaxQueues,
        MaxRxPacketLength = Mbuf.MaxPacketLength,
        MaxMtu = Mbuf.MaxPacketLength - 18,
        MaxTxSegments = Mbuf.MaxSegments,
        TxOffloadCapabilities = TxOffloads.MultiSegments,
        SpeedCapabilities = [LinkSpeed.Gbps10],
    };

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        var ring = driver.Acquire(rxName, queueId, size);
        held.Add(rxName);
        return new RingRxQueue(queueId, descriptors, pool, ring);
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf)
    {
        var ring = driver.Acquire(txName, queueId, size);
        held.Add(txName);
        return new RingTxQueue(queueId, descriptors, ring);
    }

    protected override LinkStatus OnGetLink() => LinkStatus.Up(LinkSpeed.Gbps10);

    protected override void OnSetLinkUp()
    {
    }

    protected override void OnSetLinkDown()
    {
    }

    protected override void OnClose()
    {
        foreach (var name in held)
        {
            driver.ReleaseSet(name);
        }

        held.Clear();
    }
}
