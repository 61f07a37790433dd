namespace Hyperlane.Core.Ports;

/// <summary>Per-queue Tx settings (DPDK's rte_eth_txconf).</summary>
public sealed record TxQueueConf
{
    public static TxQueueConf Default { get; } = new();

    public TxOffloads Offloads { get; init; }

    /// <summary>Free transmitted mbufs once this many descriptors are in use; 0 lets the driver choose.</summary>
    public int FreeThreshold { get; init; }
}
