using System.Buffers.Binary;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// What a backend does with the virtio-net header (virtio 1.2 §5.1.6 "Device Operation") in front of every packet,
/// shared by the split and packed queues: turning a transmitted header into mbuf offload requests, and building
/// the header of a received packet. Safe code over copies: the caller has already copied the guest's header into
/// a local once (never re-read from guest memory), and every field is validated here against the packet before
/// it is used (hardening.md VU-13, CVE-2024-11614; GSO size 0, DPDK 7023f3e532).
/// </summary>
public static class VirtioNetHeaderOps
{
    /// <summary>Offset of the checksum field in a TCP header (csum_offset for TCP).</summary>
    public const int TcpChecksumOffset = 16;

    /// <summary>Offset of the checksum field in a UDP header (csum_offset for UDP).</summary>
    public const int UdpChecksumOffset = 6;

    private const int EthernetHeaderLength = 14;
    private const int VlanTagLength = 4;
    private const int MaxVlanTags = 2;
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort EtherTypeQinQ = 0x88A8;
    private const int Ipv4MinHeaderLength = 20;
    private const int Ipv6HeaderLength = 40;
    private const int TcpMinHeaderLength = 20;
    private const int UdpHeaderLength = 8;

    /// <summary>
    /// Applies the offloads a guest asked for in <paramref name="header"/> (its transmit header, already copied)
    /// to <paramref name="packet"/>, the packet that followed it. Only what checks out is applied:
    /// <list type="bullet">
    /// <item>VIRTIO_NET_HDR_F_NEEDS_CSUM: csum_start + csum_offset + 2 must lie inside the packet; the Ethernet
    /// header (up to two VLAN tags) must carry IPv4 or IPv6 and end before csum_start; csum_offset 16 (TCP, whose
    /// header must be in the first segment) or 6 (UDP). Then L2/L3/L4 lengths, TxIpv4/TxIpv6 and
    /// TxTcpChecksum/TxUdpChecksum are set (csum_start = L2 + L3, DPDK's rule). Anything else (SCTP, tunnels, a
    /// bad offset): no checksum offload.</item>
    /// <item>gso_type (ECN bit ignored): TCPV4/TCPV6 over a TCP checksum request of the same IP version →
    /// TxTcpSegmentation (+ TxIpChecksum for IPv4) with TsoSegmentSize = gso_size; UDP (UFO) and UDP_L4 (USO) over
    /// a UDP checksum request → TxUdpSegmentation. gso_size 0, GSO without NEEDS_CSUM (§5.1.6.2 requires it) or
    /// an unknown type: no segmentation.</item>
    /// </list>
    /// Never throws or allocates; a header that asks for nothing (or nothing valid) leaves the mbuf untouched.
    /// </summary>
    public static void ApplyTxOffloads(in VirtioNetHeader header, Mbuf packet)
    {
        if ((header.Flags & VirtioNetHeader.FlagNeedsCsum) == 0 || packet.IsNull)
        {
            return;
        }

        int csumStart = header.CsumStart;
        int csumOffset = header.CsumOffset;
        if ((ulong)csumStart + (ulong)csumOffset + 2 > packet.PacketLength)
        {
            return;
        }

        ReadOnlySpan<byte> data = packet.Data;
        if (data.Length < EthernetHeaderLength)
        {
            return;
        }

        int l2 = EthernetHeaderLength;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(data[12..]);
        for (int tags = 0; tags < MaxVlanTags && etherType is EtherTypeVlan or EtherTypeQinQ; tags++)
        {
            if (data.Length < l2 + VlanTagLength)
            {
                return;
            }

            etherType = BinaryPrimitives.ReadUInt16BigEndian(data[(l2 + 2)..]);
            l2 += VlanTagLength;
        }

        int l3 = csumStart - l2;
        bool ipv4;
        if (etherType == EtherTypeIpv4 && l3 >= Ipv4MinHeaderLength)
        {
            ipv4 = true;
        }
        else if (etherType == EtherTypeIpv6 && l3 >= Ipv6HeaderLength)
        {
            ipv4 = false;
        }
        else
        {
            return;
        }

        MbufOffloadFlags flags = ipv4 ? MbufOffloadFlags.TxIpv4 : MbufOffloadFlags.TxIpv6;
        int l4;
        bool tcp;
        if (csumOffset == TcpChecksumOffset)
        {
            if (csumStart + TcpMinHeaderLength > data.Length)
            {
                return;
            }

            l4 = (data[csumStart + 12] >> 4) * 4;
            if (l4 < TcpMinHeaderLength || (ulong)csumStart + (ulong)l4 > packet.PacketLength)
            {
                return;
            }

            tcp = true;
            flags |= MbufOffloadFlags.TxTcpChecksum;
        }
        else if (csumOffset == UdpChecksumOffset)
        {
            l4 = UdpHeaderLength;
            tcp = false;
            flags |= MbufOffloadFlags.TxUdpChecksum;
        }
        else
        {
            return;
        }

        int gsoType = header.GsoType & ~VirtioNetHeader.GsoEcn;
        ushort gsoSize = header.GsoSize;
        if (gsoSize != 0)
        {
            if ((gsoType == VirtioNetHeader.GsoTcpV4 && tcp && ipv4) || (gsoType == VirtioNetHeader.GsoTcpV6 && tcp && !ipv4))
            {
                flags |= MbufOffloadFlags.TxTcpSegmentation | (ipv4 ? MbufOffloadFlags.TxIpChecksum : MbufOffloadFlags.None);
                packet.TsoSegmentSize = gsoSize;
            }
            else if ((gsoType == VirtioNetHeader.GsoUdp || gsoType == VirtioNetHeader.GsoUdpL4) && !tcp)
            {
                flags |= MbufOffloadFlags.TxUdpSegmentation;
                packet.TsoSegmentSize = gsoSize;
            }
        }

        packet.L2Length = (ushort)l2;
        packet.L3Length = (ushort)l3;
        packet.L4Length = (ushort)l4;
        packet.OffloadFlags |= flags;
    }

    /// <summary>
    /// The header of a received packet (host → guest): all zero (no checksum or GSO information: Hyperlane does
    /// not offer GUEST_CSUM/GUEST_TSO offloads through this path) except num_buffers, which the caller sets to the
    /// number of buffers the packet used (1 without VIRTIO_NET_F_MRG_RXBUF: §5.1.6.4 "the device MUST set
    /// num_buffers to 1"). Only the first <see cref="VirtioNetHeader.SizeFor"/> bytes go to the guest.
    /// </summary>
    public static VirtioNetHeader RxHeader(ushort numBuffers) => new() { NumBuffers = numBuffers };
}
