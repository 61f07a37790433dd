using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Failsafe;

/// <summary>
/// Failsafe receive: drains every started sub-device in each burst. Each gets an equal share of the burst
/// first (the starting sub-device rotates), then the room left goes to those that filled their share, so a
/// busy path never starves the other (on Azure a flow's first packets arrive on the synthetic path while
/// the VF is busy). Received mbufs carry the failsafe port's id. Counting is left to the sub-devices.
/// </summary>
internal sealed class FailsafeRxQueue(FailsafeEthDev dev, int queueId, int descriptors, Mempool pool)
    : EthRxQueue(queueId, descriptors, pool)
{
    private int next;

    public override int Receive(Span<Mbuf> packets)
    {
        EthDev[] subs = dev.Path.Rx;
        int count = subs.Length;
        int n;
        if (count == 0)
        {
            return 0;
        }
        else if (count == 1)
        {
            n = subs[0].RxBurst(QueueId, packets);
        }
        else
        {
            int start = next;
            if (start >= count)
            {
                start = 0;
            }

            next = start + 1 == count ? 0 : start + 1;
            int share = Math.Max(1, packets.Length / count);
            n = 0;
            uint full = 0; // sub-devices that filled their share and may have more
            for (int k = 0; k < count && n < packets.Length; k++)
            {
                int i = start + k < count ? start + k : start + k - count;
                int want = Math.Min(share, packets.Length - n);
                int got = subs[i].RxBurst(QueueId, packets.Slice(n, want));
                n += got;
                if (got == want)
                {
                    full |= 1u << i;
                }
            }

            for (int k = 0; k < count && n < packets.Length && full != 0; k++)
            {
                int i = start + k < count ? start + k : start + k - count;
                if ((full & (1u << i)) != 0)
                {
                    n += subs[i].RxBurst(QueueId, packets[n..]);
                }
            }
        }

        ushort port = dev.PortId;
        for (int i = 0; i < n; i++)
        {
            packets[i].Port = port;
        }

        return n;
    }
}

/// <summary>Failsafe transmit: everything goes to the transmitting sub-device; with none, nothing is taken (the caller keeps the packets).</summary>
internal sealed class FailsafeTxQueue(FailsafeEthDev dev, int queueId, int descriptors) : EthTxQueue(queueId, descriptors)
{
    public override int Transmit(ReadOnlySpan<Mbuf> packets) => dev.Path.Tx is { } tx ? tx.TxBurst(QueueId, packets) : 0;
}
