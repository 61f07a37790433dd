using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Failsafe;

/// <summary>Sums and differences of port stats, queue by queue (queue lists of different lengths line up by index).</summary>
internal static class StatsMath
{
    public static EthStats Add(EthStats a, EthStats b) => Combine(a, b, 1);

    public static EthStats Subtract(EthStats a, EthStats b) => Combine(a, b, -1);

    private static EthStats Combine(EthStats a, EthStats b, int sign) => new()
    {
        RxPackets = a.RxPackets + (sign * b.RxPackets),
        TxPackets = a.TxPackets + (sign * b.TxPackets),
        RxBytes = a.RxBytes + (sign * b.RxBytes),
        TxBytes = a.TxBytes + (sign * b.TxBytes),
        RxMissed = a.RxMissed + (sign * b.RxMissed),
        RxErrors = a.RxErrors + (sign * b.RxErrors),
        TxErrors = a.TxErrors + (sign * b.TxErrors),
        RxNoMbuf = a.RxNoMbuf + (sign * b.RxNoMbuf),
        RxQueues = Queues(a.RxQueues, b.RxQueues, sign),
        TxQueues = Queues(a.TxQueues, b.TxQueues, sign),
    };

    private static QueueSnapshot[] Queues(IReadOnlyList<QueueSnapshot> a, IReadOnlyList<QueueSnapshot> b, int sign)
    {
        var r = new QueueSnapshot[Math.Max(a.Count, b.Count)];
        for (int i = 0; i < r.Length; i++)
        {
            var x = i < a.Count ? a[i] : default;
            var y = i < b.Count ? b[i] : default;
            r[i] = sign > 0 ? x + y : x - y;
        }

        return r;
    }
}
