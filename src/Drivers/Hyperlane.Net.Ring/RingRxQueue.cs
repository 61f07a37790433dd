using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Ring;

internal sealed class RingRxQueue(int queueId, int descriptors, Mempool pool, Ring<Mbuf> ring) : EthRxQueue(queueId, descriptors, pool)
{
    public override int Receive(Span<Mbuf> packets)
    {
        int n = ring.DequeueBurst(packets);
        Counters.Packets += n;
        return n;
    }
}
