using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>linear-buffer=1: net_vhost never hands the application a chained mbuf; a frame that does not fit one is dropped and counted.</summary>
public sealed class LinearBufferTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_frame_larger_than_one_mbuf_is_dropped_and_counted_and_the_others_pass(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(vhostArgs: "linear-buffer=1", virtioArgs: packed ? "packed_vq=1" : "");
        Assert.True(pair.Vhost.LinearBuffer);
        Assert.Equal(RxOffloads.None, pair.Vhost.Info.RxOffloadCapabilities & RxOffloads.Scatter);
        var mac = TestFrames.HostMac;
        var src = pair.Virtio.MacAddress;
        byte[][] frames =
        [
            TestFrames.Make(1500, 0, 0, mac, src),
            TestFrames.Make(4000, 1, 0, mac, src),
            TestFrames.Make(1500, 2, 0, mac, src),
            TestFrames.Make(2048, 3, 0, mac, src), // exactly one 2 KiB mbuf
            TestFrames.Make(2049, 4, 0, mac, src), // one byte too many
            TestFrames.Make(64, 5, 0, mac, src),
            TestFrames.Make(9000, 6, 0, mac, src),
        ];

        Assert.Equal(frames.Length, Traffic.SendOnce(pair.Virtio, 0, pair.VirtioPool, frames));
        var received = Traffic.Drain(pair.Vhost, 0, TimeSpan.FromMilliseconds(300));

        TestFrames.AssertSame([frames[0], frames[2], frames[3], frames[5]], received, "linear-buffer=1 with 2 KiB mbufs");
        var s = pair.Vhost.GetStats();
        Assert.Equal(4, s.RxPackets);
        Assert.Equal(1500 + 1500 + 2048 + 64, s.RxBytes);
        Assert.Equal(3, s.RxErrors);
        Assert.Equal(3, s.RxQueues[0].Errors);
        var x = pair.Vhost.GetXStats().ToDictionary(v => v.Name, v => v.Value);
        Assert.Equal(3, x["rx_q0_linear_drops"]);
        Assert.Equal(3, x["rx_errors"]);
        Assert.Equal(4, x["rx_q0_unicast_packets"]); // only what was delivered is classed
        Assert.Equal(1, x["rx_q0_size_64_packets"]);
        Assert.Equal(2, x["rx_q0_size_1024_to_1522_packets"]);
        Assert.Equal(1, x["rx_q0_size_1523_to_max_packets"]); // the 2048-byte frame, not the dropped ones
        Assert.Equal(0, x["rx_q0_ring_faults"]);

        // The virtio_user side sent all seven.
        Assert.Equal(7, pair.Virtio.GetStats().TxPackets);
        VhostLab.AssertNoLeak(pair.VhostRxPool); // the dropped chains went back to the pool
    }

    [Fact]
    public void With_mbufs_big_enough_a_large_frame_passes_in_one_segment()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(vhostArgs: "linear-buffer=1", vhostDataRoom: VhostLab.JumboDataRoom);
        var frames = TestFrames.Series([64, 4000, 9000], 5, 0, TestFrames.HostMac, pair.Virtio.MacAddress);

        var burst = new Mbuf[32];
        Assert.Equal(frames.Count, Traffic.SendOnce(pair.Virtio, 0, pair.VirtioPool, frames));
        var received = new List<byte[]>();
        Hyperlane.Testing.Wait.Until(
            () =>
            {
                int n = pair.Vhost.RxBurst(0, burst);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(1, burst[i].SegmentCount);
                    received.Add(LabFrames.Bytes(burst[i]));
                }

                Mbuf.FreeBulk(burst.AsSpan(0, n));
                return received.Count >= frames.Count;
            },
            () => $"{received.Count} of {frames.Count} frames",
            VhostLab.Timeout);

        TestFrames.AssertSame(frames, received, "linear-buffer=1 with 9 KiB mbufs");
        Assert.Equal(0, pair.Vhost.GetXStats().Single(x => x.Name == "rx_q0_linear_drops").Value);
    }

    [Fact]
    public void Without_linear_buffer_the_same_frames_arrive_chained()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();
        Assert.Equal(RxOffloads.Scatter, pair.Vhost.Info.RxOffloadCapabilities & RxOffloads.Scatter);
        byte[] frame = TestFrames.Make(4000, 1, 0, TestFrames.HostMac, pair.Virtio.MacAddress);

        Assert.Equal(1, Traffic.SendOnce(pair.Virtio, 0, pair.VirtioPool, [frame]));
        var burst = new Mbuf[4];
        int n = 0;
        Hyperlane.Testing.Wait.Until(() => (n = pair.Vhost.RxBurst(0, burst)) > 0, () => "the 4000-byte frame", VhostLab.Timeout);

        Assert.Equal(1, n);
        Assert.True(burst[0].SegmentCount >= 2);
        Assert.Equal(frame, LabFrames.Bytes(burst[0]));
        burst[0].Free();
    }
}
