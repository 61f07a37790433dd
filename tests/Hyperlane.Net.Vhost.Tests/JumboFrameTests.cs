using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// Without VIRTIO_NET_F_MRG_RXBUF a guest receive buffer must hold a whole frame (plus the 12-byte virtio-net
/// header): virtio_user posts one mbuf per buffer, so its Rx pool decides the largest frame it can take. (It puts
/// the header in the headroom, so a 2 KiB mbuf takes a frame of 2048 bytes, not one byte more.)
/// </summary>
public sealed class JumboFrameTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_9000_byte_frame_reaches_virtio_user_without_mrg_rxbuf_when_its_mbufs_hold_it(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: $"mrg_rxbuf=0,packed_vq={(packed ? 1 : 0)}", virtioDataRoom: 9000 + 12 + MbufHeader.DefaultHeadroom);

        var frames = TestFrames.Series([9000, 64, 9000], 4, 0, pair.Virtio.MacAddress, TestFrames.HostMac);
        var received = Traffic.Send(pair.Vhost, 0, pair.VhostTxPool, pair.Virtio, 0, frames);

        TestFrames.AssertSame(frames, received, "net_vhost -> virtio_user, 9000-byte frames in one buffer each");
        var s = pair.Vhost.GetStats();
        Assert.Equal(frames.Count, s.TxPackets);
        Assert.Equal(0, s.TxErrors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Without_mrg_rxbuf_a_frame_larger_than_virtio_users_mbufs_is_dropped_and_counted(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: $"mrg_rxbuf=0,packed_vq={(packed ? 1 : 0)}", virtioDataRoom: Mempool.DefaultDataRoomSize);
        var mac = pair.Virtio.MacAddress;
        byte[] small1 = TestFrames.Make(1500, 1, 0, mac, TestFrames.HostMac);
        byte[] jumbo = TestFrames.Make(9000, 2, 0, mac, TestFrames.HostMac);
        byte[] justTooLong = TestFrames.Make(2049, 3, 0, mac, TestFrames.HostMac);
        byte[] small2 = TestFrames.Make(2048, 4, 0, mac, TestFrames.HostMac); // header in the headroom, frame in the 2 KiB

        int taken = Traffic.SendOnce(pair.Vhost, 0, pair.VhostTxPool, [small1, jumbo, justTooLong, small2]);
        var received = Traffic.Drain(pair.Virtio, 0, TimeSpan.FromMilliseconds(300));

        Assert.Equal(4, taken); // the ring is done with all four: two delivered, two dropped (the caller keeps none)
        TestFrames.AssertSame([small1, small2], received, "only the frames that fit a 2 KiB buffer");
        var s = pair.Vhost.GetStats();
        Assert.Equal(2, s.TxPackets);
        Assert.Equal(1500 + 2048, s.TxBytes);
        Assert.Equal(2, s.TxErrors);
        var x = pair.Vhost.GetXStats().ToDictionary(v => v.Name, v => v.Value);
        Assert.Equal(2, x["tx_q0_ring_dropped"]);
        Assert.Equal(0, x["tx_q0_ring_faults"]);
        Assert.Equal(0, x["tx_q0_ring_broken"]);
        var g = pair.Virtio.GetStats();
        Assert.Equal(2, g.RxPackets);
        Assert.Equal(0, g.RxErrors);

        // The ring is still good: more frames that fit go through.
        var more = TestFrames.Series([64, 1500], 20, 0, mac, TestFrames.HostMac, firstSeq: 100);
        TestFrames.AssertSame(more, Traffic.Send(pair.Vhost, 0, pair.VhostTxPool, pair.Virtio, 0, more), "after the drops");
        VhostLab.AssertNoLeak(pair.VhostTxPool);
    }

    [Fact]
    public void With_mrg_rxbuf_a_9000_byte_frame_spans_2_KiB_buffers_and_arrives_chained()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: "mrg_rxbuf=1");
        byte[] jumbo = TestFrames.Make(9000, 7, 0, pair.Virtio.MacAddress, TestFrames.HostMac);

        Assert.Equal(1, Traffic.SendOnce(pair.Vhost, 0, pair.VhostTxPool, [jumbo]));
        var burst = new Mbuf[4];
        int n = 0;
        Hyperlane.Testing.Wait.Until(() => (n = pair.Virtio.RxBurst(0, burst)) > 0, () => "the 9000-byte frame", VhostLab.Timeout);

        Assert.Equal(1, n);
        Assert.True(burst[0].SegmentCount >= 5, $"{burst[0].SegmentCount} segments for 9000 bytes in 2 KiB mbufs");
        Assert.Equal(jumbo, LabFrames.Bytes(burst[0]));
        burst[0].Free();
    }
}
