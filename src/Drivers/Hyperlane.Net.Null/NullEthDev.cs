using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Null;

/// <summary>The port behind <see cref="NullDriver"/>.</summary>
public sealed class NullEthDev : EthDev
{
    private const int MaxQueues = 1024;

    public NullEthDev(string name, int packetSize = 64, bool copy = false, bool noRx = false)
        : base(name, NullDriver.DriverName, MacFromName(name))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(packetSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packetSize, ushort.MaxValue);
        PacketSize = packetSize;
        Copy = copy;
        NoRx = noRx;
    }

    public int PacketSize { get; }

    public bool Copy { get; }

    public bool NoRx { get; }

    protected override EthDevInfo GetInfo() => new()
    {
        DriverName = NullDriver.DriverName,
        MaxRxQueues = MaxQueues,
        MaxTxQueues = MaxQueues,
        MaxRxPacketLength = ushort.MaxValue,
        MinMtu = 68,
        MaxMtu = ushort.MaxValue - 18,
        MaxMacAddresses = 1,
        MaxTxSegments = Mbuf.MaxSegments,
        TxOffloadCapabilities = TxOffloads.MultiSegments | TxOffloads.MbufFastFree,
        RssHashCapabilities = RssHashFunctions.Ip | RssHashFunctions.Tcp | RssHashFunctions.Udp,
        RssKeySize = 40,
        SpeedCapabilities = [LinkSpeed.Gbps10],
    };

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf)
    {
        int room = pool.DataRoomSize - MbufHeader.DefaultHeadroom;
        if (PacketSize > room)
        {
            throw new ArgumentException($"size={PacketSize} does not fit one mbuf of mempool '{pool.Name}' ({room} bytes of data room after headroom)");
        }

        return new NullRxQueue(queueId, descriptors, pool, PortId, PacketSize, Copy, NoRx);
    }

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf) =>
        new NullTxQueue(queueId, descriptors, Copy, PacketSize);

    protected override LinkStatus OnGetLink() => LinkStatus.Up(LinkSpeed.Gbps10);

    protected override void OnSetLinkUp()
    {
    }

    protected override void OnSetLinkDown()
    {
    }

    protected override void OnAddMacAddress(MacAddress mac)
    {
    }

    protected override void OnRemoveMacAddress(MacAddress mac)
    {
    }

    protected override void OnSetMulticastList(IReadOnlyList<MacAddress> addresses)
    {
    }
}
