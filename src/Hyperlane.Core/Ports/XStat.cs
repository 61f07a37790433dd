namespace Hyperlane.Core.Ports;

/// <summary>One extended statistic: a name as DPDK spells it (rx_good_packets, rx_q0_bytes...) and its value.</summary>
public readonly record struct XStat(string Name, long Value);
