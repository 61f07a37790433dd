using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Null;

/// <summary>Tx queue of a null port: frees what it is given (after reading it, with copy=1).</summary>
internal sealed class NullTxQueue : EthTxQueue
{
    private readonly bool copy;
    private readonly byte[] sink;

    public NullTxQueue(int queueId, int descriptors, bool copy, int size)
        : base(queueId, descriptors)
    {
        this.copy = copy;
        sink = new byte[Math.Max(size, Mbuf.MaxPacketLength)];
    }

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        long bytes = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            bytes += packets[i].PacketLength;
        }

        if (copy)
        {
            for (int i = 0; i < packets.Length; i++)
            {
                packets[i].CopyTo(sink);
            }
        }

        Mbuf.FreeBulk(packets);
        Counters.Packets += packets.Length;
        Counters.Bytes += bytes;
        return packets.Length;
    }
}
