namespace Hyperlane.Core.Ports;

/// <summary>Which packet types RSS hashes on (DPDK's RTE_ETH_RSS_*).</summary>
[Flags]
public enum RssHashFunctions : ulong
{
    None = 0,
    Ipv4 = 1 << 2,
    NonFragIpv4Tcp = 1 << 4,
    NonFragIpv4Udp = 1 << 5,
    Ipv6 = 1 << 8,
    NonFragIpv6Tcp = 1 << 10,
    NonFragIpv6Udp = 1 << 11,

    Ip = Ipv4 | Ipv6,
    Tcp = NonFragIpv4Tcp | NonFragIpv6Tcp,
    Udp = NonFragIpv4Udp | NonFragIpv6Udp,
}
