using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;

namespace Hyperlane.Net.Vhost;

/// <summary>
/// Tx queue q of a <see cref="VhostEthDev"/>: copies packets into the guest's receiveq q (vring 2q). The packets
/// the ring took are freed here (it copied them); the rest, which found no guest buffers, stay with the caller and
/// are counted as Tx errors, as DPDK's vhost PMD counts them.
/// </summary>
internal sealed class VhostTxQueue(int queueId, int descriptors, VhostQueueSlot slot) : EthTxQueue(queueId, descriptors)
{
    public PacketClassCounters Classes { get; } = new();

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        if (packets.IsEmpty || !slot.TryEnter(out IVhostQueue? q))
        {
            return 0;
        }

        int n;
        try
        {
            VhostQueueStats s = q.Stats;
            long sent = s.Packets, bytes = s.Bytes, dropped = s.Dropped;
            n = q.Enqueue(packets);
            Counters.Packets += s.Packets - sent;
            Counters.Bytes += s.Bytes - bytes;
            Counters.Errors += (s.Dropped - dropped) + (packets.Length - n);
        }
        finally
        {
            slot.Exit();
        }

        if (n > 0)
        {
            Classes.Count(packets[..n]);
            Mbuf.FreeBulk(packets[..n]);
        }

        return n;
    }
}
