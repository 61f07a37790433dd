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
    /// <summary>Most packets one burst takes (a longer burst is taken in part; the caller keeps the rest).</summary>
    private const int MaxClassified = 512;

    private IVirtioDriverQueue? driver;

    /// <summary>
    /// The burst's packet classes, kept until the ring says how many it took. A field, not stackalloc: a method with
    /// stackalloc and a loop is compiled once, fully optimized but without tiering or profile data, which left the
    /// driver's interface calls undevirtualized. One lcore uses a queue at a time.
    /// </summary>
    private readonly byte[] codes = new byte[MaxClassified];

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

        // Classified before the ring takes them (it prepends the virtio-net header, and may free a packet it drops),
        // counted once it is known how many it took.
        Span<byte> codes = this.codes.AsSpan(0, Math.Min(packets.Length, MaxClassified));
        packets = packets[..codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = Classes.Classify(packets[i]);
        }

        VirtioDriverQueueStats s = d.Stats;
        long sent = s.Packets, bytes = s.Bytes, dropped = s.Dropped;
        int n = d.Transmit(packets);
        Counters.Packets += s.Packets - sent;
        Counters.Bytes += s.Bytes - bytes;
        Counters.Errors += s.Dropped - dropped;
        for (int i = 0; i < n; i++)
        {
            Classes.Add(codes[i]);
        }

        return n;
    }
}
