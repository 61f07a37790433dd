namespace Hyperlane.Core.Ports;

/// <summary>Link speeds in Mb/s (DPDK's RTE_ETH_SPEED_NUM_*).</summary>
public static class LinkSpeed
{
    public const uint None = 0;
    public const uint Mbps10 = 10;
    public const uint Gbps1 = 1_000;
    public const uint Gbps10 = 10_000;
    public const uint Gbps25 = 25_000;
    public const uint Gbps40 = 40_000;
    public const uint Gbps100 = 100_000;
    public const uint Gbps200 = 200_000;

    /// <summary>Speed unknown (RTE_ETH_SPEED_NUM_UNKNOWN).</summary>
    public const uint Unknown = uint.MaxValue;
}
