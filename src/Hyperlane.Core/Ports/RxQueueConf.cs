namespace Hyperlane.Core.Ports;

/// <summary>Per-queue Rx settings (DPDK's rte_eth_rxconf).</summary>
public sealed record RxQueueConf
{
    public static RxQueueConf Default { get; } = new();

    /// <summary>Offloads for this queue in addition to the port's.</summary>
    public RxOffloads Offloads { get; init; }

    /// <summary>Drop packets when no descriptor is free, instead of back-pressure.</summary>
    public bool DropWhenFull { get; init; } = true;
}
