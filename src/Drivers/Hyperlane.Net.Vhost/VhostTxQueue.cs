using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;

namespace Hyperlane.Net.Vhost;

/// <summary>
/// Tx queue q of a <see cref="VhostEthDev"/>: copies packets into the guest's receiveq q (vring 2q). The packets
/// the ring is done with are freed here (it copied them, or dropped one too long for the guest's buffers); the
/// rest, which found no guest buffers, stay with the caller. Both kinds count as Tx errors, as DPDK's vhost PMD
/// counts its missed packets.
/// </summary>
internal sealed class VhostTxQueue(int queueId, int descriptors, VhostQueueSlot slot) : EthTxQueue(queueId, descriptors)
{
    /// <summary>DPDK vhost's bins: the large-frame bin ends at 1522 bytes (a VLAN-tagged 1518).</summary>
    public PacketClassCounters Classes { get; } = new(1522);

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        if (packets.IsEmpty || !slot.TryEnter(out IVhostQueue? q))
        {
            return 0;
        }

        int n;
        try
        {
            var split = q as SplitVhostQueue; // called directly, as in VhostRxQueue.Receive
            VhostQueueStats s = split is not null ? split.Stats : q.Stats;
            long sent = s.Packets, bytes = s.Bytes, dropped = s.Dropped;
            n = split is not null ? split.Enqueue(packets) : q.Enqueue(packets);
            Counters.Packets += s.Packets - sent;
            Counters.Bytes += s.Bytes - bytes;
            // The ring counts as dropped every packet it did not deliver: too long for the guest's buffers (taken
            // and freed below) or left for lack of buffers (still the caller's).
            Counters.Errors += s.Dropped - dropped;
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
