namespace Hyperlane.Core.Ports;

/// <summary>
/// Counters of one queue. Only the lcore polling the queue writes them (plain increments, no atomics);
/// the control thread reads them. They only grow: resetting stats records a baseline instead.
/// </summary>
#pragma warning disable CA1051 // fields, not properties: the data path adds to them with one instruction
public sealed class QueueCounters
{
    public long Packets;
    public long Bytes;
    public long Errors;

    /// <summary>Rx: packets the queue could not receive for lack of mbufs (DPDK's rx_nombuf).</summary>
    public long NoMbuf;

    /// <summary>Rx: packets dropped before the application saw them (DPDK's imissed).</summary>
    public long Missed;

    internal QueueSnapshot Read() => new(
        Volatile.Read(ref Packets),
        Volatile.Read(ref Bytes),
        Volatile.Read(ref Errors),
        Volatile.Read(ref NoMbuf),
        Volatile.Read(ref Missed));
}
#pragma warning restore CA1051
