namespace Hyperlane.Packets;

/// <summary>Network-layer protocol found by <see cref="PacketParser"/>.</summary>
public enum L3Type : byte
{
    None = 0,
    Ipv4,
    Ipv6,
    Arp,
}
