namespace Hyperlane.Core.Ports;

/// <summary>What a port can do and its limits (DPDK's struct rte_eth_dev_info).</summary>
public sealed record EthDevInfo
{
    public required string DriverName { get; init; }

    public int MaxRxQueues { get; init; } = 1;

    public int MaxTxQueues { get; init; } = 1;

    public int MinRxDescriptors { get; init; } = 1;

    public int MaxRxDescriptors { get; init; } = 65536;

    public int MinTxDescriptors { get; init; } = 1;

    public int MaxTxDescriptors { get; init; } = 65536;

    /// <summary>Largest frame the port can receive, in bytes.</summary>
    public int MaxRxPacketLength { get; init; } = 9018;

    public int MinMtu { get; init; } = 68;

    public int MaxMtu { get; init; } = 9000;

    /// <summary>Most MAC addresses the port filters on (primary included).</summary>
    public int MaxMacAddresses { get; init; } = 1;

    /// <summary>Most segments one Tx packet may have.</summary>
    public int MaxTxSegments { get; init; } = 1;

    public RxOffloads RxOffloadCapabilities { get; init; }

    public TxOffloads TxOffloadCapabilities { get; init; }

    public RssHashFunctions RssHashCapabilities { get; init; }

    public int RssKeySize { get; init; }

    /// <summary>Speeds the port supports, in Mb/s; empty when not applicable.</summary>
    public IReadOnlyList<uint> SpeedCapabilities { get; init; } = [];

    /// <summary>Whether the driver can raise link-change events.</summary>
    public bool SupportsLinkStatusEvents { get; init; }

    /// <summary>Whether the driver can raise removal events.</summary>
    public bool SupportsRemovalEvents { get; init; }

    /// <summary>
    /// Whether the port shares packet memory with another process (virtio_user's memory table), so the mempools
    /// its queues use, and those the application transmits from, must be created shareable (memfd-backed:
    /// <c>RegionOptions.Shareable</c>; hugetlb regions always are).
    /// </summary>
    public bool RequiresShareableMempool { get; init; }

    public int DefaultRxBurst { get; init; } = 32;

    public int DefaultTxBurst { get; init; } = 32;

    public int DefaultRxDescriptors { get; init; } = 512;

    public int DefaultTxDescriptors { get; init; } = 512;
}
