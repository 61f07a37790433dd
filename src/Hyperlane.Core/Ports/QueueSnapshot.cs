namespace Hyperlane.Core.Ports;

/// <summary>A queue's counters at one moment.</summary>
public readonly record struct QueueSnapshot(long Packets, long Bytes, long Errors, long NoMbuf, long Missed)
{
    public static QueueSnapshot operator -(QueueSnapshot a, QueueSnapshot b) =>
        new(a.Packets - b.Packets, a.Bytes - b.Bytes, a.Errors - b.Errors, a.NoMbuf - b.NoMbuf, a.Missed - b.Missed);

    public static QueueSnapshot operator +(QueueSnapshot a, QueueSnapshot b) =>
        new(a.Packets + b.Packets, a.Bytes + b.Bytes, a.Errors + b.Errors, a.NoMbuf + b.NoMbuf, a.Missed + b.Missed);

    public static QueueSnapshot Subtract(QueueSnapshot a, QueueSnapshot b) => a - b;

    public static QueueSnapshot Add(QueueSnapshot a, QueueSnapshot b) => a + b;
}
