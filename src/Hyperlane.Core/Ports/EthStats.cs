namespace Hyperlane.Core.Ports;

/// <summary>Basic port statistics (DPDK's struct rte_eth_stats), with per-queue figures.</summary>
public sealed record EthStats
{
    public long RxPackets { get; init; }

    public long TxPackets { get; init; }

    public long RxBytes { get; init; }

    public long TxBytes { get; init; }

    /// <summary>Packets dropped by the port before reaching the application (imissed).</summary>
    public long RxMissed { get; init; }

    public long RxErrors { get; init; }

    public long TxErrors { get; init; }

    /// <summary>Rx mbuf allocation failures.</summary>
    public long RxNoMbuf { get; init; }

    public IReadOnlyList<QueueSnapshot> RxQueues { get; init; } = [];

    public IReadOnlyList<QueueSnapshot> TxQueues { get; init; } = [];
}
