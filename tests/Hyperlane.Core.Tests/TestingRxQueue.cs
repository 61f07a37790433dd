using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

/// <summary>Rx queue of <see cref="TestEthDev"/>: a FIFO of mbufs the test injects, as if they came off a wire.</summary>
public sealed class TestRxQueue : EthRxQueue
{
    private readonly Mbuf[] slots;
    private readonly ushort port;
    private int head;
    private int count;

    public TestRxQueue(int queueId, int descriptors, Mempool pool, ushort port)
        : base(queueId, descriptors, pool)
    {
        slots = new Mbuf[descriptors];
        this.port = port;
    }

    public bool Released { get; private set; }

    public int Pending => count;

    /// <summary>Puts packets on the "wire"; returns how many fitted in the descriptors.</summary>
    public int Inject(ReadOnlySpan<Mbuf> packets)
    {
        int n = Math.Min(packets.Length, slots.Length - count);
        for (int i = 0; i < n; i++)
        {
            slots[(head + count + i) % slots.Length] = packets[i];
        }

        count += n;
        return n;
    }

    public override int Receive(Span<Mbuf> packets)
    {
        int n = Math.Min(packets.Length, count);
        long bytes = 0;
        for (int i = 0; i < n; i++)
        {
            Mbuf m = slots[head];
            slots[head] = default;
            head = (head + 1) % slots.Length;
            m.Port = port;
            bytes += m.PacketLength;
            packets[i] = m;
        }

        count -= n;
        Counters.Packets += n;
        Counters.Bytes += bytes;
        return n;
    }

    public override void Release()
    {
        while (count > 0)
        {
            slots[head].Free();
            slots[head] = default;
            head = (head + 1) % slots.Length;
            count--;
        }

        Released = true;
    }
}
