using Hyperlane.Memory;

namespace Hyperlane.Core.Ports;

/// <summary>A driver's receive queue. <see cref="Receive"/> is the data path: it never throws or allocates.</summary>
public abstract class EthRxQueue
{
    protected EthRxQueue(int queueId, int descriptors, Mempool pool)
    {
        QueueId = queueId;
        Descriptors = descriptors;
        Pool = pool;
    }

    public int QueueId { get; }

    public int Descriptors { get; }

    /// <summary>Pool the queue takes mbufs from.</summary>
    public Mempool Pool { get; }

    public QueueCounters Counters { get; } = new();

    /// <summary>1 while an lcore is inside a burst on this queue (set and cleared by <see cref="EthDev"/>).</summary>
#pragma warning disable CA1051 // a field: the burst sets it with one plain store (EthDev.QuiesceBursts fences)
    internal int InUse;
#pragma warning restore CA1051

    /// <summary>Fills <paramref name="packets"/> from the front with received packets; returns how many.</summary>
    public abstract int Receive(Span<Mbuf> packets);

    /// <summary>Gives back what the queue holds (mbufs posted to the device...). Called when the queue is replaced or the port closed.</summary>
    public virtual void Release()
    {
    }
}
