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

    /// <summary>Fills <paramref name="packets"/> from the front with received packets; returns how many.</summary>
    public abstract int Receive(Span<Mbuf> packets);

    /// <summary>Gives back what the queue holds (mbufs posted to the device...). Called when the queue is replaced or the port closed.</summary>
    public virtual void Release()
    {
    }
}
