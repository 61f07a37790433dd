namespace Hyperlane.Core.Ports;

/// <summary>Port configuration given to <see cref="EthDev.Configure"/> (DPDK's struct rte_eth_conf, the parts we use).</summary>
public sealed record EthConf
{
    public static EthConf Default { get; } = new();

    public RxOffloads RxOffloads { get; init; }

    public TxOffloads TxOffloads { get; init; }

    /// <summary>MTU to apply at configure time; null keeps the current one.</summary>
    public int? Mtu { get; init; }

    /// <summary>RSS settings when more than one Rx queue is configured; null disables RSS.</summary>
    public RssConf? Rss { get; init; }

    /// <summary>Ask the driver to raise link-change events (DPDK's intr_conf.lsc).</summary>
    public bool LinkStatusEvents { get; init; }

    /// <summary>Ask the driver to raise removal events (DPDK's intr_conf.rmv).</summary>
    public bool RemovalEvents { get; init; }
}
