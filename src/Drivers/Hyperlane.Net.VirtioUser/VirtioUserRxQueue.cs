using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Vhost.Frontend;

namespace Hyperlane.Net.VirtioUser;

/// <summary>Rx queue q of a <see cref="VirtioUserEthDev"/>: receives from pair q's receive ring (vring 2q).</summary>
internal sealed class VirtioUserRxQueue(int queueId, int descriptors, Mempool pool) : EthRxQueue(queueId, descriptors, pool)
{
    private IVirtioDriverQueue? driver;

    public PacketClassCounters Classes { get; } = new();

    /// <summary>The frontend's queue while the port is started.</summary>
    public IVirtioDriverQueue? Driver => Volatile.Read(ref driver);

    public void Attach(IVirtioDriverQueue? queue) => Volatile.Write(ref driver, queue);

    public override int Receive(Span<Mbuf> packets)
    {
        IVirtioDriverQueue? d = driver;
        if (d is null)
        {
            return 0;
        }

        VirtioDriverQueueStats s = d.Stats;
        long got = s.Packets, bytes = s.Bytes, noMbuf = s.RxNoMbuf, dropped = s.Dropped;
        int n = d.Receive(packets);
        Counters.Packets += s.Packets - got;
        Counters.Bytes += s.Bytes - bytes;
        Counters.NoMbuf += s.RxNoMbuf - noMbuf;
        Counters.Errors += s.Dropped - dropped;
        if (n > 0)
        {
            Classes.Count(packets[..n]);
        }

        return n;
    }
}
