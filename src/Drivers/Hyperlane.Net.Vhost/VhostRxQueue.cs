using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;

namespace Hyperlane.Net.Vhost;

/// <summary>Rx queue q of a <see cref="VhostEthDev"/>: dequeues what the guest transmitted on its transmitq q (vring 2q+1).</summary>
internal sealed class VhostRxQueue(int queueId, int descriptors, Mempool pool, VhostQueueSlot slot, VhostEthDev port)
    : EthRxQueue(queueId, descriptors, pool)
{
    /// <summary>Multi-segment packets dropped because of linear-buffer=1.</summary>
#pragma warning disable CA1051 // a counter the data path adds to
    public long LinearDrops;
#pragma warning restore CA1051

    /// <summary>DPDK vhost's bins: the large-frame bin ends at 1522 bytes (a VLAN-tagged 1518).</summary>
    public PacketClassCounters Classes { get; } = new(1522);

    public override int Receive(Span<Mbuf> packets)
    {
        int n = 0;
        if (QueueId == 0 && Volatile.Read(ref port.PendingRarp) != 0 && packets.Length > 0)
        {
            n = TakeRarp(packets);
        }

        if (slot.TryEnter(out IVhostQueue? q))
        {
            try
            {
                // Split rings, the common case, are called directly: through the interface each burst took two
                // calls through a dispatch stub, which perf showed (this method gets no measured profile to
                // devirtualize them with).
                var split = q as SplitVhostQueue;
                VhostQueueStats s = split is not null ? split.Stats : q.Stats;
                long shortages = s.MbufShortages, bad = s.Faults + s.Dropped;
                n += split is not null ? split.Dequeue(Pool, packets[n..]) : q.Dequeue(Pool, packets[n..]);
                Counters.NoMbuf += s.MbufShortages - shortages;
                Counters.Errors += s.Faults + s.Dropped - bad; // malformed chains, and packets too long to take
            }
            finally
            {
                slot.Exit();
            }
        }

        if (n == 0)
        {
            return 0;
        }

        if (port.LinearBuffer)
        {
            n = DropChained(packets[..n]);
        }

        ushort portId = port.PortId;
        long bytes = 0;
        for (int i = 0; i < n; i++)
        {
            Mbuf m = packets[i];
            m.Port = portId;
            bytes += m.PacketLength;
            Classes.Count(m);
        }

        Counters.Packets += n;
        Counters.Bytes += bytes;
        return n;
    }

    /// <summary>Puts the pending RARP frame first; 0 (and it stays pending) when the pool is empty.</summary>
    private int TakeRarp(Span<Mbuf> packets)
    {
        ulong pending = Interlocked.Exchange(ref port.PendingRarp, 0);
        if (pending == 0)
        {
            return 0;
        }

        Mbuf m = Pool.Alloc();
        if (m.IsNull)
        {
            Counters.NoMbuf++;
            Interlocked.CompareExchange(ref port.PendingRarp, pending, 0); // try again next burst
            return 0;
        }

        if (!RarpFrame.TryWrite(m, MacAddress.FromUInt64(pending & ~RarpFrame.PendingFlag)))
        {
            m.Free(); // a data room under 60 bytes: nothing to announce with
            return 0;
        }

        packets[0] = m;
        return 1;
    }

    /// <summary>linear-buffer=1: frees chained packets, keeps the others in order; returns how many are kept.</summary>
    private int DropChained(Span<Mbuf> packets)
    {
        int kept = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            Mbuf m = packets[i];
            if (m.SegmentCount > 1)
            {
                m.Free();
                LinearDrops++;
                Counters.Errors++;
                continue;
            }

            packets[kept++] = m;
        }

        return kept;
    }
}
