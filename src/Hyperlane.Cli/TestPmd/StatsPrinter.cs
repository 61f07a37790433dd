using System.Diagnostics;
using System.Globalization;
using Hyperlane.Core.Ports;

namespace Hyperlane.Cli.TestPmd;

/// <summary>Prints port statistics in testpmd's layout, so users read them as they always have.</summary>
public sealed class StatsPrinter
{
    private readonly TextWriter output;
    private readonly Dictionary<ushort, (long Rx, long Tx, long RxBytes, long TxBytes, long Ticks)> last = [];

    public StatsPrinter(TextWriter output) => this.output = output;

    /// <summary>testpmd's "show port stats" block for one port, with throughput since the last show.</summary>
    public void PrintNicStats(EthDev port)
    {
        ArgumentNullException.ThrowIfNull(port);
        var s = port.GetStats();
        long now = Stopwatch.GetTimestamp();
        long rxPps = 0, txPps = 0, rxBps = 0, txBps = 0;
        if (last.TryGetValue(port.PortId, out var prev))
        {
            double secs = (now - prev.Ticks) / (double)Stopwatch.Frequency;
            if (secs > 0)
            {
                rxPps = (long)Math.Max(0, (s.RxPackets - prev.Rx) / secs);
                txPps = (long)Math.Max(0, (s.TxPackets - prev.Tx) / secs);
                rxBps = (long)Math.Max(0, (s.RxBytes - prev.RxBytes) * 8 / secs);
                txBps = (long)Math.Max(0, (s.TxBytes - prev.TxBytes) * 8 / secs);
            }
        }

        last[port.PortId] = (s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes, now);
        var o = output;
        o.WriteLine();
        o.WriteLine(I($"  ######################## NIC statistics for port {port.PortId,-2} ########################"));
        o.WriteLine(I($"  RX-packets: {s.RxPackets,-10} RX-missed: {s.RxMissed,-10} RX-bytes:  {s.RxBytes}"));
        o.WriteLine(I($"  RX-errors: {s.RxErrors}"));
        o.WriteLine(I($"  RX-nombuf:  {s.RxNoMbuf,-10}"));
        o.WriteLine(I($"  TX-packets: {s.TxPackets,-10} TX-errors: {s.TxErrors,-10} TX-bytes:  {s.TxBytes}"));
        o.WriteLine();
        o.WriteLine("  Throughput (since last show)");
        o.WriteLine(I($"  Rx-pps: {rxPps,12}          Rx-bps: {rxBps,12}"));
        o.WriteLine(I($"  Tx-pps: {txPps,12}          Tx-bps: {txBps,12}"));
        o.WriteLine("  ############################################################################");
    }

    /// <summary>testpmd's "show port xstats" block.</summary>
    public void PrintXStats(EthDev port)
    {
        ArgumentNullException.ThrowIfNull(port);
        output.WriteLine(I($"###### NIC extended statistics for port {port.PortId,-2}"));
        foreach (var x in port.GetXStats())
        {
            output.WriteLine(I($"{x.Name}: {x.Value}"));
        }
    }

    /// <summary>testpmd's "show port info" block.</summary>
    public void PrintInfo(EthDev port)
    {
        ArgumentNullException.ThrowIfNull(port);
        var info = port.Info;
        var link = port.GetLink();
        var o = output;
        o.WriteLine();
        o.WriteLine(I($"********************* Infos for port {port.PortId,-2} *********************"));
        o.WriteLine(I($"MAC address: {port.MacAddress}"));
        o.WriteLine(I($"Device name: {port.Name}"));
        o.WriteLine(I($"Driver name: {info.DriverName}"));
        o.WriteLine(I($"Link status: {(link.IsUp ? "up" : "down")}"));
        o.WriteLine(I($"Link speed: {(link.SpeedMbps == LinkSpeed.Unknown ? "Unknown" : link.SpeedMbps >= 1000 ? $"{link.SpeedMbps / 1000} Gbps" : $"{link.SpeedMbps} Mbps")}"));
        o.WriteLine(I($"Link duplex: {(link.FullDuplex ? "full-duplex" : "half-duplex")}"));
        o.WriteLine(I($"MTU: {port.Mtu}"));
        o.WriteLine(I($"Promiscuous mode: {(port.Promiscuous ? "enabled" : "disabled")}"));
        o.WriteLine(I($"Allmulticast mode: {(port.AllMulticast ? "enabled" : "disabled")}"));
        o.WriteLine(I($"Maximum number of MAC addresses: {info.MaxMacAddresses}"));
        o.WriteLine(I($"Minimum size of RX buffer: {info.MinMtu}"));
        o.WriteLine(I($"Maximum configurable length of RX packet: {info.MaxRxPacketLength}"));
        o.WriteLine(I($"Current number of RX queues: {port.RxQueueCount}"));
        o.WriteLine(I($"Max possible RX queues: {info.MaxRxQueues}"));
        o.WriteLine(I($"Max possible number of RXDs per queue: {info.MaxRxDescriptors}"));
        o.WriteLine(I($"Min possible number of RXDs per queue: {info.MinRxDescriptors}"));
        o.WriteLine(I($"Current number of TX queues: {port.TxQueueCount}"));
        o.WriteLine(I($"Max possible TX queues: {info.MaxTxQueues}"));
        o.WriteLine(I($"Max possible number of TXDs per queue: {info.MaxTxDescriptors}"));
        o.WriteLine(I($"Min possible number of TXDs per queue: {info.MinTxDescriptors}"));
        o.WriteLine(I($"Rx offload capabilities: {info.RxOffloadCapabilities}"));
        o.WriteLine(I($"Tx offload capabilities: {info.TxOffloadCapabilities}"));
    }

    /// <summary>testpmd's per-port "Forward statistics" block printed when forwarding stops.</summary>
    public void PrintForwardStats(ushort portId, long rx, long rxDropped, long tx, long txDropped)
    {
        output.WriteLine();
        output.WriteLine(I($"  ---------------------- Forward statistics for port {portId,-2} ----------------------"));
        output.WriteLine(I($"  RX-packets: {rx,-14} RX-dropped: {rxDropped,-14} RX-total: {rx + rxDropped}"));
        output.WriteLine(I($"  TX-packets: {tx,-14} TX-dropped: {txDropped,-14} TX-total: {tx + txDropped}"));
        output.WriteLine("  ----------------------------------------------------------------------------");
    }

    public void PrintAccumulated(long rx, long rxDropped, long tx, long txDropped)
    {
        output.WriteLine();
        output.WriteLine("  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++");
        output.WriteLine(I($"  RX-packets: {rx,-14} RX-dropped: {rxDropped,-14} RX-total: {rx + rxDropped}"));
        output.WriteLine(I($"  TX-packets: {tx,-14} TX-dropped: {txDropped,-14} TX-total: {tx + txDropped}"));
        output.WriteLine("  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++");
    }

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
