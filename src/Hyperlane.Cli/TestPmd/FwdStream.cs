using Hyperlane.Core.Ports;
using Hyperlane.Packets;

namespace Hyperlane.Cli.TestPmd;

/// <summary>
/// One forwarding stream: packets from (RxPort, RxQueue) go to (TxPort, TxQueue). Exactly one lcore
/// polls a stream, so its counters are plain fields.
/// </summary>
#pragma warning disable CA1051 // counters are fields: the forwarding loop adds to them directly
public sealed class FwdStream
{
    public FwdStream(EthDev rxPort, int rxQueue, EthDev txPort, int txQueue, ForwardMode mode, MacAddress peerMac)
    {
        RxPort = rxPort;
        RxQueue = rxQueue;
        TxPort = txPort;
        TxQueue = txQueue;
        Mode = mode;
        PeerMac = peerMac;
        TxPortMac = txPort.MacAddress;
    }

    public EthDev RxPort { get; }

    public int RxQueue { get; }

    public EthDev TxPort { get; }

    public int TxQueue { get; }

    /// <summary>The mode this stream runs; changed only while forwarding is stopped.</summary>
    public ForwardMode Mode { get; set; }

    /// <summary>Destination MAC for mac mode (the Tx port's --eth-peer).</summary>
    public MacAddress PeerMac { get; }

    public MacAddress TxPortMac { get; }

    public long RxPackets;
    public long TxPackets;

    /// <summary>Packets the Tx port did not take (freed by the engine): testpmd's fwd drops.</summary>
    public long FwdDrops;

    /// <summary>Packets generated but not allocated for lack of mbufs.</summary>
    public long AllocFailures;

    /// <summary>Flow index for flowgen.</summary>
    public int NextFlow;

    public override string ToString() =>
        $"RX P={RxPort.PortId}/Q={RxQueue} -> TX P={TxPort.PortId}/Q={TxQueue} ({ForwardModes.Name(Mode)})";
}
#pragma warning restore CA1051
