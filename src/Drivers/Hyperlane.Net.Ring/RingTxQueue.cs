using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Ring;

internal sealed class RingTxQueue(int queueId, int descriptors, Ring<Mbuf> ring) : EthTxQueue(queueId, descriptors)
{
    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        int n = ring.EnqueueBurst(packets);
        Counters.Packets += n;
        Counters.Errors += packets.Length - n; // DPDK's ring PMD counts what did not fit as Tx errors
        return n;
    }
}
