namespace Hyperlane.Core.Ports;

/// <summary>Receive offloads (DPDK's RTE_ETH_RX_OFFLOAD_*).</summary>
[Flags]
public enum RxOffloads : ulong
{
    None = 0,
    VlanStrip = 1 << 0,
    Ipv4Checksum = 1 << 1,
    UdpChecksum = 1 << 2,
    TcpChecksum = 1 << 3,
    TcpLro = 1 << 4,
    VlanFilter = 1 << 9,
    Scatter = 1 << 13,
    Timestamp = 1 << 14,
    KeepCrc = 1 << 16,
    RssHash = 1 << 19,

    Checksum = Ipv4Checksum | UdpChecksum | TcpChecksum,
}
