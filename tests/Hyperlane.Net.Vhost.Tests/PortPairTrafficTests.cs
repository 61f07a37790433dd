using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// Hyperlane's virtio_user against Hyperlane's net_vhost in one process, through the port API only: every ring
/// layout and buffer mode, frames from 64 bytes to 9000, one and two queue pairs, both directions. Each frame
/// must arrive byte for byte, in order, on the queue of the same index, and both ports must count the same.
/// </summary>
public sealed class PortPairTrafficTests
{
    private static readonly int[] Sizes = [64, 128, 1500, 4000, 9000];

    public static TheoryData<bool, bool, int> Matrix()
    {
        var data = new TheoryData<bool, bool, int>();
        foreach (bool packed in new[] { false, true })
        {
            foreach (bool mrg in new[] { true, false })
            {
                foreach (int queues in new[] { 1, 2 })
                {
                    data.Add(packed, mrg, queues);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// Without mrg_rxbuf every receive buffer must hold a whole frame: virtio_user's Rx pool then has 9 KiB mbufs.
    /// With it, 2 KiB mbufs, so that 4000 and 9000-byte frames span several buffers (and arrive chained). Transmitted
    /// frames longer than an mbuf are chained on both sides.
    /// </summary>
    [Theory]
    [MemberData(nameof(Matrix))]
    public void Frames_of_every_size_cross_both_ways_exactly_in_order_on_the_same_queue(bool packed, bool mrg, int queues)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(
            queues,
            virtioArgs: $"packed_vq={(packed ? 1 : 0)},mrg_rxbuf={(mrg ? 1 : 0)}",
            virtioDataRoom: mrg ? Mempool.DefaultDataRoomSize : VhostLab.JumboDataRoom);
        var vhost = pair.Vhost;
        var virtio = pair.Virtio;

        Assert.Equal(packed, virtio.Frontend!.IsPacked);
        Assert.Equal(mrg, VirtioFeatures.IsSet(virtio.Frontend.NegotiatedFeatures, VirtioFeatures.NetMrgRxbuf));
        Assert.Equal(virtio.Frontend.NegotiatedFeatures, vhost.Backend.NegotiatedFeatures);
        Assert.Equal(queues, virtio.Frontend.QueuePairs);

        var toHost = new long[queues];
        var toHostBytes = new long[queues];
        var toGuest = new long[queues];
        var toGuestBytes = new long[queues];
        for (int q = 0; q < queues; q++)
        {
            var up = TestFrames.Series(Sizes, 8, q, TestFrames.HostMac, virtio.MacAddress, firstSeq: 1000 * q);
            TestFrames.AssertSame(up, Traffic.Send(virtio, q, pair.VirtioPool, vhost, q, up), $"virtio_user Tx {q} -> net_vhost Rx {q}");
            toHost[q] = up.Count;
            toHostBytes[q] = up.Sum(f => (long)f.Length);

            var down = TestFrames.Series(Sizes, 8, q, virtio.MacAddress, TestFrames.HostMac, firstSeq: 5000 + (1000 * q));
            TestFrames.AssertSame(down, Traffic.Send(vhost, q, pair.VhostTxPool, virtio, q, down), $"net_vhost Tx {q} -> virtio_user Rx {q}");
            toGuest[q] = down.Count;
            toGuestBytes[q] = down.Sum(f => (long)f.Length);
        }

        for (int q = 0; q < queues; q++)
        {
            Assert.Empty(Traffic.Drain(vhost, q, TimeSpan.FromMilliseconds(20)));
            Assert.Empty(Traffic.Drain(virtio, q, TimeSpan.FromMilliseconds(20)));
        }

        EthStats h = vhost.GetStats();
        EthStats g = virtio.GetStats();
        Assert.Equal(toHost.Sum(), h.RxPackets);
        Assert.Equal(toHostBytes.Sum(), h.RxBytes);
        Assert.Equal(toHost.Sum(), g.TxPackets);
        Assert.Equal(toHostBytes.Sum(), g.TxBytes);
        Assert.Equal(toGuest.Sum(), h.TxPackets);
        Assert.Equal(toGuestBytes.Sum(), h.TxBytes);
        Assert.Equal(toGuest.Sum(), g.RxPackets);
        Assert.Equal(toGuestBytes.Sum(), g.RxBytes);
        for (int q = 0; q < queues; q++)
        {
            Assert.Equal(new QueueSnapshot(toHost[q], toHostBytes[q], 0, 0, 0), h.RxQueues[q]);
            Assert.Equal(new QueueSnapshot(toHost[q], toHostBytes[q], 0, 0, 0), g.TxQueues[q]);
            Assert.Equal(new QueueSnapshot(toGuest[q], toGuestBytes[q], 0, 0, 0), h.TxQueues[q]);
            Assert.Equal(new QueueSnapshot(toGuest[q], toGuestBytes[q], 0, 0, 0), g.RxQueues[q]);
        }

        Assert.Equal(0, h.RxErrors + h.TxErrors + h.RxNoMbuf + h.RxMissed);
        Assert.Equal(0, g.RxErrors + g.TxErrors + g.RxNoMbuf + g.RxMissed);
        var hx = vhost.GetXStats().ToDictionary(x => x.Name, x => x.Value);
        var gx = virtio.GetXStats().ToDictionary(x => x.Name, x => x.Value);
        for (int q = 0; q < queues; q++)
        {
            foreach (string name in new[] { "ring_faults", "ring_dropped", "ring_broken" })
            {
                Assert.Equal(0, hx[$"rx_q{q}_{name}"]);
                Assert.Equal(0, hx[$"tx_q{q}_{name}"]);
                Assert.Equal(0, gx[$"rx_q{q}_{name}"]);
                Assert.Equal(0, gx[$"tx_q{q}_{name}"]);
            }
        }

        Assert.Equal(0, hx["vhost_malformed_messages"] + hx["vhost_protocol_violations"] + hx["vhost_broken_rings"]);

        // Closing both ports gives every mbuf back: none was lost or kept by a ring.
        Assert.True(lab.Runtime.Vdev.Remove(virtio.Name));
        Assert.True(lab.Runtime.Vdev.Remove(vhost.Name));
        VhostLab.AssertNoLeak(pair.VirtioPool);
        VhostLab.AssertNoLeak(pair.VhostRxPool);
        VhostLab.AssertNoLeak(pair.VhostTxPool);
    }
}
