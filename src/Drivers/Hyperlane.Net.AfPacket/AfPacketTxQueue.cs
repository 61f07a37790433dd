using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket.Kernel;

namespace Hyperlane.Net.AfPacket;

/// <summary>
/// Tx queue i of an af_packet port: copies each mbuf chain into the next free frame of socket i's mapped
/// Tx ring, frees the mbufs, and kicks the kernel with one sendto(MSG_DONTWAIT) per burst. A packet larger
/// than a frame (or the interface's MTU allows) is counted as an error and freed, never truncated. When the
/// ring is full the burst stops: the rest stays the caller's. No allocation, no lock, no throw.
/// </summary>
internal sealed class AfPacketTxQueue : EthTxQueue
{
    private readonly AfPacketEthDev port;
    private readonly PacketSocket socket;
    private readonly TxRing ring;
    private int head;

    public AfPacketTxQueue(int queueId, int descriptors, AfPacketEthDev port, PacketSocket socket)
        : base(queueId, descriptors)
    {
        this.port = port;
        this.socket = socket;
        ring = socket.Tx;
        head = ring.NextFrame;
    }

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        if (port.IsRemoved)
        {
            return 0; // the interface is gone: nothing is sent, the caller keeps every mbuf
        }

        int max = Math.Min(ring.Capacity, port.MaxFrameLength);
        int taken = 0, queued = 0;
        for (; taken < packets.Length; taken++)
        {
            Mbuf m = packets[taken];
            uint length = m.PacketLength;
            int len = length > int.MaxValue ? -1 : (int)length; // a corrupt PktLen must not turn negative and throw below
            if (len > max || len <= 0)
            {
                Counters.Errors++;
                continue; // freed below with the rest
            }

            if (!ring.IsAvailable(head))
            {
                break;
            }

            if (m.CopyTo(ring.Data(head)[..len]) != len)
            {
                Counters.Errors++; // chain shorter than its packet length
                continue;
            }

            ring.Submit(head, len);
            head = head + 1 == ring.FrameCount ? 0 : head + 1;
            queued++;
            Counters.Packets++;
            Counters.Bytes += len;
        }

        if (taken > 0)
        {
            Mbuf.FreeBulk(packets[..taken]);
        }

        if (queued > 0 || taken < packets.Length)
        {
            socket.Kick(); // also flushes frames an earlier kick left behind (EAGAIN)
        }

        return taken;
    }

    public override void Release() => ring.NextFrame = head;
}
