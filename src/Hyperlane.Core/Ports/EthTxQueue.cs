using Hyperlane.Memory;

namespace Hyperlane.Core.Ports;

/// <summary>A driver's transmit queue. <see cref="Transmit"/> is the data path: it never throws or allocates.</summary>
public abstract class EthTxQueue
{
    protected EthTxQueue(int queueId, int descriptors)
    {
        QueueId = queueId;
        Descriptors = descriptors;
    }

    public int QueueId { get; }

    public int Descriptors { get; }

    public QueueCounters Counters { get; } = new();

    /// <summary>1 while an lcore is inside a burst on this queue (set and cleared by <see cref="EthDev"/>).</summary>
#pragma warning disable CA1051 // a field: the burst sets it with one plain store (EthDev.QuiesceBursts fences)
    internal int InUse;
#pragma warning restore CA1051

    /// <summary>
    /// Takes packets from the front of <paramref name="packets"/>; returns how many it took. Packets it
    /// did not take still belong to the caller.
    /// </summary>
    public abstract int Transmit(ReadOnlySpan<Mbuf> packets);

    /// <summary>Frees mbufs the device is done with; returns how many. Optional (rte_eth_tx_done_cleanup).</summary>
    public virtual int Cleanup() => 0;

    public virtual void Release()
    {
    }
}
