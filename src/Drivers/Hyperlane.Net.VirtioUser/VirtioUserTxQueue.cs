using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Vhost.Frontend;

namespace Hyperlane.Net.VirtioUser;

/// <summary>
/// Tx queue q of a <see cref="VirtioUserEthDev"/>: posts packets on pair q's transmit ring (vring 2q+1). A packet
/// the backend cannot read (its mbuf is in a pool outside the memory table, or it has too many segments) is taken,
/// freed and counted as a Tx error.
/// </summary>
internal sealed class VirtioUserTxQueue(int queueId, int descriptors) : EthTxQueue(queueId, descriptors)
{
    private IVirtioDriverQueue? driver;

    public PacketClassCounters Classes { get; } = new();

    /// <summary>The frontend's queue while the port is started.</summary>
    public IVirtioDriverQueue? Driver => Volatile.Read(ref driver);

    public void Attach(IVirtioDriverQueue? queue) => Volatile.Write(ref driver, queue);

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        IVirtioDriverQueue? d = driver;
        if (d is null || packets.IsEmpty)
        {
            return 0;
        }

        VirtioDriverQueueStats s = d.Stats;
        long sent = s.Packets, bytes = s.Bytes, dropped = s.Dropped;
        int n = d.Transmit(packets);
        if (n > 0)
        {
            // The ring holds what it took until a later burst reclaims it; only a packet it dropped at once is
            // already back in its pool (this lcore's cache), unchanged: reading its length and MAC is still sound.
            Classes.Count(packets[..n]);
        }

        Counters.Packets += s.Packets - sent;
        Counters.Bytes += s.Bytes - bytes;
        Counters.Errors += s.Dropped - dropped;
        return n;
    }
}
