using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket.Kernel;

namespace Hyperlane.Net.AfPacket;

/// <summary>
/// Rx queue i of an af_packet port: walks the TPACKET_V3 ring of socket i block by block, copies each packet
/// into mbufs from the queue's pool (chained when it does not fit one), and gives each block back to the
/// kernel when all its packets are taken. A block may be held across bursts. No allocation, no lock, no throw.
/// </summary>
internal sealed class AfPacketRxQueue : EthRxQueue
{
    private readonly AfPacketEthDev port;
    private readonly RxRing ring;
    private readonly ushort portId;
    private int block;
    private bool holding;
    private int remaining;
    private int offset;

    private readonly uint maxChainBytes;

    public AfPacketRxQueue(int queueId, int descriptors, Mempool pool, AfPacketEthDev port, RxRing ring)
        : base(queueId, descriptors, pool)
    {
        this.port = port;
        this.ring = ring;
        portId = port.PortId;
        // The longest frame one chain from this pool can hold: anything longer is an error, never retried.
        maxChainBytes = (uint)Math.Min(Mbuf.MaxPacketLength, (long)Mbuf.MaxSegments * Math.Max(1, pool.DataRoomSize - MbufHeader.DefaultHeadroom));
        block = ring.NextBlock; // a queue set up again carries on where the last one stopped
    }

    public override int Receive(Span<Mbuf> packets)
    {
        if (port.IsRemoved)
        {
            return 0;
        }

        int n = 0;
        while (n < packets.Length)
        {
            if (!holding)
            {
                if (!ring.TryTakeBlock(block, out remaining, out offset))
                {
                    break;
                }

                holding = true;
                if (remaining == 0)
                {
                    ReleaseBlock();
                    continue;
                }
            }

            if (!ring.TryReadPacket(block, offset, out Tpacket3Hdr h))
            {
                // The kernel's offsets do not fit the block: drop the rest of it rather than read outside.
                Counters.Errors += remaining;
                ReleaseBlock();
                continue;
            }

            if (h.Snaplen == 0 || h.Snaplen != h.Len || h.Snaplen > maxChainBytes)
            {
                // Truncated by the ring (packet larger than a block can hold), or longer than any mbuf chain
                // may be: never deliver part of a frame, and never retry one that cannot fit (that would stall the queue).
                Counters.Errors++;
            }
            else
            {
                Mbuf m = CopyOut(ring.Bytes(block, offset + h.Mac, (int)h.Snaplen), in h);
                if (m.IsNull)
                {
                    Counters.NoMbuf++;
                    break; // keep our place: the packet is taken on a later burst
                }

                packets[n++] = m;
                Counters.Packets++;
                Counters.Bytes += h.Snaplen;
            }

            if (--remaining == 0)
            {
                ReleaseBlock();
            }
            else if (h.NextOffset == 0 || h.NextOffset >= (uint)ring.BlockSize)
            {
                Counters.Errors += remaining;
                ReleaseBlock();
            }
            else
            {
                offset += (int)h.NextOffset;
            }
        }

        return n;
    }

    /// <summary>Returns a held block to the kernel when the queue is released.</summary>
    public override void Release()
    {
        if (holding)
        {
            ReleaseBlock();
        }

        ring.NextBlock = block;
    }

    private void ReleaseBlock()
    {
        ring.ReleaseBlock(block);
        holding = false;
        remaining = 0;
        block = block + 1 == ring.BlockCount ? 0 : block + 1;
    }

    /// <summary>Copies one packet into a new mbuf chain; a null handle (and nothing held) when the pool runs out.</summary>
    private Mbuf CopyOut(ReadOnlySpan<byte> frame, in Tpacket3Hdr h)
    {
        Mbuf head = Pool.Alloc();
        if (head.IsNull)
        {
            return default;
        }

        Mbuf last = head;
        int copied = 0;
        while (true)
        {
            int chunk = Math.Min(last.Tailroom, frame.Length - copied);
            if (chunk > 0 && head.TryAppend(chunk, out Span<byte> tail))
            {
                frame.Slice(copied, chunk).CopyTo(tail);
                copied += chunk;
            }

            if (copied == frame.Length)
            {
                break;
            }

            Mbuf seg = head.SegmentCount < Mbuf.MaxSegments ? Pool.Alloc() : default;
            if (seg.IsNull || seg.Tailroom == 0)
            {
                if (!seg.IsNull)
                {
                    seg.Free();
                }

                head.Free();
                return default;
            }

            last.Header.Next = seg.Pointer;
            head.Header.NbSegs++;
            last = seg;
        }

        head.Port = portId;
        var flags = MbufOffloadFlags.RxRssHash;
        head.RssHash = h.RxHash;
        if ((h.Status & PacketConstants.TP_STATUS_VLAN_VALID) != 0)
        {
            head.VlanTci = (ushort)h.VlanTci;
            flags |= MbufOffloadFlags.RxVlan | MbufOffloadFlags.RxVlanStripped;
        }

        head.OffloadFlags = flags;
        return head;
    }
}
