using System.Diagnostics;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>Moves test frames through a port pair with the data-path API, from the test thread.</summary>
internal static class Traffic
{
    private const int Burst = 32;

    /// <summary>
    /// Transmits <paramref name="frames"/> in bursts with TxBurst on (<paramref name="tx"/>, <paramref name="txQueue"/>)
    /// (mbufs from <paramref name="txPool"/>, chained when a frame is longer than one; whatever Tx did not take is freed
    /// and sent again) while receiving with RxBurst on (<paramref name="rx"/>, <paramref name="rxQueue"/>), until as
    /// many frames arrived as were sent or <paramref name="timeout"/> passed. Returns what arrived, in order.
    /// </summary>
    public static List<byte[]> Send(EthDev tx, int txQueue, Mempool txPool, EthDev rx, int rxQueue, IReadOnlyList<byte[]> frames, TimeSpan? timeout = null)
    {
        var received = new List<byte[]>(frames.Count);
        var rxBurst = new Mbuf[Burst];
        int next = 0;
        var sw = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? VhostLab.Timeout;
        while (received.Count < frames.Count && sw.Elapsed < limit)
        {
            int sent = 0;
            if (next < frames.Count)
            {
                int k = Math.Min(Burst, frames.Count - next);
                var burst = new Mbuf[k];
                for (int i = 0; i < k; i++)
                {
                    burst[i] = LabFrames.ToMbuf(txPool, frames[next + i]);
                }

                sent = tx.TxBurst(txQueue, burst);
                Assert.InRange(sent, 0, k);
                Mbuf.FreeBulk(burst.AsSpan(sent));
                next += sent;
            }

            int n = Receive(rx, rxQueue, rxBurst, received);
            if (sent == 0 && n == 0)
            {
                Thread.Sleep(1);
            }
        }

        // Anything more (a duplicate, another queue's frame) would show up now.
        Thread.Sleep(20);
        Receive(rx, rxQueue, rxBurst, received);
        return received;
    }

    /// <summary>One RxBurst: appends the frames' bytes to <paramref name="into"/>, checks the port id, frees them; returns how many.</summary>
    public static int Receive(EthDev rx, int queue, Mbuf[] burst, List<byte[]> into)
    {
        int n = rx.RxBurst(queue, burst);
        for (int i = 0; i < n; i++)
        {
            into.Add(LabFrames.Bytes(burst[i]));
            Assert.Equal(rx.PortId, burst[i].Port);
        }

        Mbuf.FreeBulk(burst.AsSpan(0, n));
        return n;
    }

    /// <summary>Receives on (<paramref name="rx"/>, <paramref name="queue"/>) until <paramref name="quiet"/> passes without a packet; returns the frames.</summary>
    public static List<byte[]> Drain(EthDev rx, int queue, TimeSpan? quiet = null)
    {
        var frames = new List<byte[]>();
        var burst = new Mbuf[Burst];
        var idle = Stopwatch.StartNew();
        TimeSpan limit = quiet ?? TimeSpan.FromMilliseconds(100);
        while (idle.Elapsed < limit)
        {
            if (Receive(rx, queue, burst, frames) > 0)
            {
                idle.Restart();
            }
            else
            {
                Thread.Sleep(1);
            }
        }

        return frames;
    }

    /// <summary>Transmits each frame once (one burst per call of up to 32) and returns how many the port took; the rest are freed.</summary>
    public static int SendOnce(EthDev tx, int queue, Mempool pool, IReadOnlyList<byte[]> frames)
    {
        int taken = 0;
        for (int at = 0; at < frames.Count; at += Burst)
        {
            int k = Math.Min(Burst, frames.Count - at);
            var burst = new Mbuf[k];
            for (int i = 0; i < k; i++)
            {
                burst[i] = LabFrames.ToMbuf(pool, frames[at + i]);
            }

            int sent = tx.TxBurst(queue, burst);
            Mbuf.FreeBulk(burst.AsSpan(sent));
            taken += sent;
        }

        return taken;
    }
}
