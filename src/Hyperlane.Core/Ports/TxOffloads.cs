namespace Hyperlane.Core.Ports;

/// <summary>Transmit offloads (DPDK's RTE_ETH_TX_OFFLOAD_*).</summary>
[Flags]
public enum TxOffloads : ulong
{
    None = 0,
    VlanInsert = 1 << 0,
    Ipv4Checksum = 1 << 1,
    UdpChecksum = 1 << 2,
    TcpChecksum = 1 << 3,
    TcpTso = 1 << 5,
    UdpTso = 1 << 6,
    MultiSegments = 1 << 15,
    MbufFastFree = 1 << 16,

    Checksum = Ipv4Checksum | UdpChecksum | TcpChecksum,
}
