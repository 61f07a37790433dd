using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Tap;

/// <summary>
/// Tx queue of a tap port: one writev per packet, a vnet header then one iovec per segment. Checksum and
/// TSO requests in the mbuf become a virtio_net_hdr (NEEDS_CSUM, GSO) so the kernel does the work; only
/// the IPv4 header checksum is computed here. EAGAIN stops the burst and the rest stays the caller's;
/// a packet the kernel refuses for another reason is counted as an error and freed (DPDK's tap does the
/// same). Unsafe: the iovec array and the header live in native memory the kernel reads.
/// </summary>
internal sealed unsafe class TapTxQueue : EthTxQueue
{
    /// <summary>Header iovec plus at most this many segments (well under UIO_MAXIOV).</summary>
    private const int MaxIov = Mbuf.MaxSegments + 1;

    private const ulong ChecksumFlags = (ulong)(MbufOffloadFlags.TxTcpChecksum | MbufOffloadFlags.TxUdpChecksum
        | MbufOffloadFlags.TxTcpSegmentation | MbufOffloadFlags.TxIpChecksum);

    private readonly int fd;
    private readonly TapPortState state;
    private readonly IoVec* iov;
    private readonly VirtioNetHeader* header;
    private int released;

    public TapTxQueue(int queueId, int descriptors, int fd, TapPortState state)
        : base(queueId, descriptors)
    {
        this.fd = fd;
        this.state = state;
        iov = (IoVec*)NativeMemory.AllocZeroed(MaxIov, (nuint)sizeof(IoVec));
        header = (VirtioNetHeader*)NativeMemory.AllocZeroed(VirtioNetHeader.Size);
        iov[0].Base = (nint)header;
        iov[0].Length = VirtioNetHeader.Size;
    }

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        if (state.Removed)
        {
            return 0;
        }

        int i = 0;
        long sent = 0, bytes = 0, errors = 0;
        for (; i < packets.Length; i++)
        {
            Mbuf m = packets[i];
            int count = 1;
            Mbuf s = m;
            while (!s.IsNull && count < MaxIov)
            {
                iov[count].Base = s.BufferAddress + s.DataOffset;
                iov[count].Length = s.DataLength;
                count++;
                s = s.Next;
            }

            if (!s.IsNull)
            {
                errors++; // more segments than one writev carries: refused, freed
                continue;
            }

            *header = default;
            int fixAt = -1;
            ushort before = 0;
            if ((m.Header.OlFlags & ChecksumFlags) != 0 && !TryBuildHeader(m, header, out fixAt, out before))
            {
                errors++; // offload request that does not fit the packet: refused, freed
                continue;
            }

            SysResult r = Syscalls.Writev(fd, iov, count);
            if (!r.IsSuccess)
            {
                if (r.Error is Errno.EAGAIN or Errno.EINTR or Errno.ENOMEM)
                {
                    if (fixAt >= 0)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(m.Data[fixAt..], before); // the caller keeps it as it gave it
                    }

                    break;
                }

                errors++;
                continue;
            }

            sent++;
            bytes += m.PacketLength;
        }

        Mbuf.FreeBulk(packets[..i]);
        Counters.Packets += sent;
        Counters.Bytes += bytes;
        Counters.Errors += errors;
        return i;
    }

    public override void Release()
    {
        if (Interlocked.Exchange(ref released, 1) != 0)
        {
            return;
        }

        NativeMemory.Free(iov);
        NativeMemory.Free(header);
    }

    /// <summary>
    /// Fills the vnet header from the mbuf's offload flags and lengths. For TSO, the TCP checksum field holds
    /// DPDK's pseudo-header sum without the length; the kernel (as virtio) wants it with the L4 length, so it
    /// is adjusted here (DPDK's virtio_tso_fix_cksum) and <paramref name="fixAt"/>/<paramref name="before"/>
    /// say how to undo it if the packet is not taken. The headers must be in the first segment.
    /// </summary>
    internal static bool TryBuildHeader(Mbuf m, VirtioNetHeader* h, out int fixAt, out ushort before)
    {
        fixAt = -1;
        before = 0;
        ulong ol = m.Header.OlFlags;
        int l2 = m.L2Length, l3 = m.L3Length, l4 = m.L4Length;
        int l4Start = l2 + l3;
        uint pktLen = m.PacketLength;
        Span<byte> first = m.Data;

        bool ipv4 = (ol & (ulong)MbufOffloadFlags.TxIpv4) != 0
            || ((ol & (ulong)MbufOffloadFlags.TxIpv6) == 0 && l3 >= 20 && first.Length > l2 && (first[l2] >> 4) == 4);
        if ((ol & (ulong)MbufOffloadFlags.TxIpChecksum) != 0)
        {
            if (!ipv4 || l3 < 20 || l2 + l3 > first.Length)
            {
                return false;
            }

            Span<byte> ip = first.Slice(l2, l3);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Ipv4Header(ip));
        }

        bool tso = (ol & (ulong)MbufOffloadFlags.TxTcpSegmentation) != 0;
        int csumOffset;
        if (tso || (ol & (ulong)MbufOffloadFlags.TxTcpChecksum) != 0)
        {
            csumOffset = 16;
        }
        else if ((ol & (ulong)MbufOffloadFlags.TxUdpChecksum) != 0)
        {
            csumOffset = 6;
        }
        else
        {
            return true; // IP checksum only
        }

        if (l3 == 0 || l4Start + csumOffset + 2 > pktLen || l4Start + csumOffset + 2 > first.Length)
        {
            return false;
        }

        h->Flags = VirtioNetHeader.FlagNeedsCsum;
        h->CsumStart = (ushort)l4Start;
        h->CsumOffset = (ushort)csumOffset;
        if (!tso)
        {
            return true;
        }

        int hdrLen = l4Start + l4;
        if (l4 < 20 || m.TsoSegmentSize == 0 || hdrLen > first.Length)
        {
            return false;
        }

        // DPDK's TSO pseudo-header excludes the length; add it (it may not fit 16 bits, so add it as 32).
        int at = l4Start + 16;
        before = BinaryPrimitives.ReadUInt16BigEndian(first[at..]);
        uint payload = pktLen - (uint)l4Start;
        uint sum = before + (payload >> 16) + (payload & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(first[at..], (ushort)sum);
        fixAt = at;
        if (pktLen - (uint)hdrLen > m.TsoSegmentSize)
        {
            h->GsoType = ipv4 ? VirtioNetHeader.GsoTcpV4 : VirtioNetHeader.GsoTcpV6;
            h->GsoSize = m.TsoSegmentSize;
            h->HdrLen = (ushort)hdrLen;
        }

        return true;
    }
}
