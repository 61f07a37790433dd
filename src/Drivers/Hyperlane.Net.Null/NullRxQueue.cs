using System.Runtime.CompilerServices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Null;

/// <summary>Rx queue of a null port: allocates a burst of packets of the configured size.</summary>
internal sealed class NullRxQueue : EthRxQueue
{
    private readonly ushort port;
    private readonly ushort size;
    private readonly bool copy;
    private readonly bool noRx;
    private readonly byte[] template;

    public NullRxQueue(int queueId, int descriptors, Mempool pool, ushort port, int size, bool copy, bool noRx)
        : base(queueId, descriptors, pool)
    {
        this.port = port;
        this.size = (ushort)size;
        this.copy = copy;
        this.noRx = noRx;
        template = new byte[size];
        for (int i = 0; i < template.Length; i++)
        {
            template[i] = (byte)i;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Receive(Span<Mbuf> packets)
    {
        if (noRx || packets.IsEmpty)
        {
            return 0;
        }

        if (Pool.AllocBulk(packets) == 0)
        {
            Counters.NoMbuf += packets.Length;
            return 0;
        }

        for (int i = 0; i < packets.Length; i++)
        {
            ref MbufHeader h = ref packets[i].Header;
            h.DataLen = size;
            h.PktLen = size;
            h.Port = port;
        }

        if (copy)
        {
            for (int i = 0; i < packets.Length; i++)
            {
                template.CopyTo(packets[i].Data);
            }
        }

        Counters.Packets += packets.Length;
        Counters.Bytes += (long)packets.Length * size;
        return packets.Length;
    }
}
