namespace Hyperlane.Core.Ports;

/// <summary>Port events (DPDK's RTE_ETH_EVENT_*).</summary>
public enum EthDevEventType
{
    /// <summary>The link went up or down (LSC).</summary>
    LinkStatusChange,

    /// <summary>The device is gone or going (INTR_RMV): stop using it.</summary>
    Removal,

    /// <summary>A port was probed (NEW).</summary>
    New,

    /// <summary>A port was closed and released (DESTROY).</summary>
    Destroy,

    /// <summary>The device must be reset to keep working (INTR_RESET).</summary>
    ResetRequired,
}
