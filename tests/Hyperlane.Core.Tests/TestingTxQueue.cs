using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

/// <summary>Tx queue of <see cref="TestEthDev"/>: keeps what it is given (up to its descriptors) for the test to take back.</summary>
public sealed class TestTxQueue : EthTxQueue
{
    private readonly List<Mbuf> sent = [];

    public TestTxQueue(int queueId, int descriptors)
        : base(queueId, descriptors)
    {
    }

    public bool Released { get; private set; }

    public int Pending => sent.Count;

    public override int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        int n = Math.Min(packets.Length, Descriptors - sent.Count);
        long bytes = 0;
        for (int i = 0; i < n; i++)
        {
            sent.Add(packets[i]);
            bytes += packets[i].PacketLength;
        }

        Counters.Packets += n;
        Counters.Bytes += bytes;
        return n;
    }

    /// <summary>The packets transmitted so far, in order; the caller owns them from now on.</summary>
    public Mbuf[] TakeSent()
    {
        Mbuf[] all = [.. sent];
        sent.Clear();
        return all;
    }

    public override void Release()
    {
        foreach (var m in sent)
        {
            m.Free();
        }

        sent.Clear();
        Released = true;
    }
}
