using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// DESIGN.md: nothing a burst reaches allocates. 10^6 packets each way through the port pair (virtio_user TxBurst
/// to net_vhost RxBurst, net_vhost TxBurst to virtio_user RxBurst), on one dedicated thread acting as lcore 0,
/// counted with GC.GetAllocatedBytesForCurrentThread after a warm-up.
/// </summary>
public sealed class ZeroAllocationTests
{
    private const long Packets = 1_000_000;
    private const long WarmUp = 20_000;
    private const int Burst = 32;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_million_packets_each_way_allocate_nothing(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: packed ? "packed_vq=1" : "");
        var guestMac = pair.Virtio.MacAddress;

        var (warm, up, down, allocated) = LcoreThread.Run(
            () =>
            {
                var tx = new Mbuf[Burst];
                var rx = new Mbuf[Burst];
                long warm = Move(pair.Virtio, pair.VirtioPool, pair.Vhost, TestFrames.HostMac, guestMac, tx, rx, WarmUp)
                    + Move(pair.Vhost, pair.VhostTxPool, pair.Virtio, guestMac, TestFrames.HostMac, tx, rx, WarmUp);

                long before = ThreadAllocations.Baseline();
                long up = Move(pair.Virtio, pair.VirtioPool, pair.Vhost, TestFrames.HostMac, guestMac, tx, rx, Packets);
                long down = Move(pair.Vhost, pair.VhostTxPool, pair.Virtio, guestMac, TestFrames.HostMac, tx, rx, Packets);
                long allocated = ThreadAllocations.Since(before);
                pair.VirtioPool.FlushCurrentLcoreCache();
                pair.VhostRxPool.FlushCurrentLcoreCache();
                pair.VhostTxPool.FlushCurrentLcoreCache();
                return (warm, up, down, allocated);
            },
            "nv-alloc-lcore-0");

        Assert.Equal(2 * WarmUp, warm);
        Assert.Equal(Packets, up);
        Assert.Equal(Packets, down);
        Assert.True(allocated == 0, $"the data path allocated {allocated} bytes for {up + down} packets");
        Assert.Equal(Packets + WarmUp, pair.Vhost.GetStats().RxPackets);
        Assert.Equal(Packets + WarmUp, pair.Virtio.GetStats().RxPackets);
    }

    /// <summary>
    /// Sends 64-byte frames out of <paramref name="tx"/> and receives them on <paramref name="rx"/> until
    /// <paramref name="target"/> arrived (or nothing moved for a long while); returns how many arrived.
    /// </summary>
    private static long Move(EthDev tx, Mempool pool, EthDev rx, MacAddress dst, MacAddress src, Mbuf[] txBurst, Mbuf[] rxBurst, long target)
    {
        long sent = 0, got = 0;
        int idle = 0;
        while (got < target && idle < 10_000_000)
        {
            int k = (int)Math.Min(Burst, target - sent);
            if (k > 0 && pool.AllocBulk(txBurst.AsSpan(0, k)) == k)
            {
                for (int i = 0; i < k; i++)
                {
                    if (txBurst[i].TryAppend(64, out Span<byte> f))
                    {
                        dst.CopyTo(f);
                        src.CopyTo(f[6..]);
                        f[12] = 0x88;
                        f[13] = 0xB5;
                    }
                }

                int taken = tx.TxBurst(0, txBurst.AsSpan(0, k));
                Mbuf.FreeBulk(txBurst.AsSpan(taken, k - taken));
                sent += taken;
            }

            int n = rx.RxBurst(0, rxBurst);
            Mbuf.FreeBulk(rxBurst.AsSpan(0, n));
            got += n;
            idle = n == 0 ? idle + 1 : 0;
        }

        return got;
    }
}
