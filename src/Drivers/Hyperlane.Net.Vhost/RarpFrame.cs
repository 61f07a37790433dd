using System.Buffers.Binary;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Vhost;

/// <summary>
/// The RARP request a vhost backend sends up for a guest that announced itself with SEND_RARP after a live
/// migration (RFC 903; what DPDK's vhost builds): broadcast from the guest's MAC, "reverse request" with the MAC as
/// sender and target hardware address, padded to the 60-byte Ethernet minimum.
/// </summary>
internal static class RarpFrame
{
    /// <summary>Frame length: 14 (Ethernet) + 28 (ARP over Ethernet/IPv4) padded to 60.</summary>
    public const int Length = 60;

    /// <summary>Set in a pending value so that MAC 00:00:00:00:00:00 still reads as pending.</summary>
    public const ulong PendingFlag = 1UL << 63;

    private const ushort EtherTypeRarp = 0x8035;
    private const ushort OpReverseRequest = 3;

    /// <summary>Writes the frame for <paramref name="mac"/> into <paramref name="m"/> (a fresh mbuf); false when it has no room.</summary>
    public static bool TryWrite(Mbuf m, MacAddress mac)
    {
        if (!m.TryAppend(Length, out Span<byte> f))
        {
            return false;
        }

        f.Clear();
        MacAddress.Broadcast.CopyTo(f);
        mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherTypeRarp);
        Span<byte> arp = f[14..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);            // hardware type: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);  // protocol type: IPv4
        arp[4] = 6;                                               // hardware address length
        arp[5] = 4;                                               // protocol address length
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], OpReverseRequest);
        mac.CopyTo(arp[8..]);                                     // sender hardware address; sender IP 0
        mac.CopyTo(arp[18..]);                                    // target hardware address; target IP 0
        return true;
    }
}
