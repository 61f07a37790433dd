using Hyperlane.Core.Ports;
using Hyperlane.Packets;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>GetStats and GetXStats of both ports: per-queue figures, the names emitted, reset, and the packet class counters.</summary>
public sealed class StatsTests
{
    private static readonly MacAddress Multicast = MacAddress.Parse("01:00:5e:00:00:fb");

    /// <summary>
    /// net_vhost's class counters, per queue and direction, as DPDK 22.11's vhost PMD names them: the two largest
    /// bins are size_1024_to_1522_packets and size_1523_to_max_packets, with 1522 as the boundary.
    /// </summary>
    private static readonly string[] VhostClassNames =
    [
        "multicast_packets", "broadcast_packets", "unicast_packets", "undersize_packets", "size_64_packets",
        "size_65_to_127_packets", "size_128_to_255_packets", "size_256_to_511_packets", "size_512_to_1023_packets",
        "size_1024_to_1522_packets", "size_1523_to_max_packets",
    ];

    /// <summary>virtio_user's class counters (DPDK's virtio names: no unicast counter).</summary>
    private static readonly string?[] VirtioClassNames =
    [
        "multicast_packets", "broadcast_packets", null, "undersize_packets", "size_64_packets",
        "size_65_127_packets", "size_128_255_packets", "size_256_511_packets", "size_512_1023_packets",
        "size_1024_1518_packets", "size_1519_max_packets",
    ];

    [Fact]
    public void Each_queue_pair_counts_its_own_packets_and_bytes_on_both_ports()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(queues: 2);
        var virtio = pair.Virtio;
        var vhost = pair.Vhost;
        int[] up = [10, 25];
        int[] down = [30, 7];
        int[] upSize = [100, 1000];
        int[] downSize = [200, 3000];
        for (int q = 0; q < 2; q++)
        {
            var f = TestFrames.Series([upSize[q]], up[q], q, TestFrames.HostMac, virtio.MacAddress);
            TestFrames.AssertSame(f, Traffic.Send(virtio, q, pair.VirtioPool, vhost, q, f), $"up {q}");
            f = TestFrames.Series([downSize[q]], down[q], q, virtio.MacAddress, TestFrames.HostMac);
            TestFrames.AssertSame(f, Traffic.Send(vhost, q, pair.VhostTxPool, virtio, q, f), $"down {q}");
        }

        var h = vhost.GetStats();
        var g = virtio.GetStats();
        var hx = XStats(vhost);
        var gx = XStats(virtio);
        for (int q = 0; q < 2; q++)
        {
            Assert.Equal(new QueueSnapshot(up[q], (long)up[q] * upSize[q], 0, 0, 0), h.RxQueues[q]);
            Assert.Equal(new QueueSnapshot(down[q], (long)down[q] * downSize[q], 0, 0, 0), h.TxQueues[q]);
            Assert.Equal(new QueueSnapshot(down[q], (long)down[q] * downSize[q], 0, 0, 0), g.RxQueues[q]);
            Assert.Equal(new QueueSnapshot(up[q], (long)up[q] * upSize[q], 0, 0, 0), g.TxQueues[q]);
            Assert.Equal(up[q], hx[$"rx_q{q}_packets"]);
            Assert.Equal((long)up[q] * upSize[q], hx[$"rx_q{q}_bytes"]);
            Assert.Equal(down[q], hx[$"tx_q{q}_packets"]);
            Assert.Equal((long)down[q] * downSize[q], gx[$"rx_q{q}_bytes"]);
            Assert.Equal(up[q], gx[$"tx_q{q}_packets"]);
            Assert.Equal(up[q], hx[$"rx_q{q}_unicast_packets"]);
            Assert.Equal(down[q], hx[$"tx_q{q}_unicast_packets"]);
        }

        Assert.Equal(up[0], hx["rx_q0_size_65_to_127_packets"]);
        Assert.Equal(up[1], hx["rx_q1_size_512_to_1023_packets"]);
        Assert.Equal(down[0], hx["tx_q0_size_128_to_255_packets"]);
        Assert.Equal(down[1], hx["tx_q1_size_1523_to_max_packets"]);
        Assert.Equal(down[0], gx["rx_q0_size_128_255_packets"]);
        Assert.Equal(down[1], gx["rx_q1_size_1519_max_packets"]);
        Assert.Equal(up[0], gx["tx_q0_size_65_127_packets"]);
        Assert.Equal(up[1], gx["tx_q1_size_512_1023_packets"]);
        Assert.Equal(up.Sum(), hx["rx_good_packets"]);
        Assert.Equal(down.Sum(), hx["tx_good_packets"]);
        Assert.Equal(down.Sum(), gx["rx_good_packets"]);
        Assert.Equal(up.Sum(), gx["tx_good_packets"]);
    }

    [Fact]
    public void Both_ports_emit_the_generic_the_class_the_ring_and_the_session_counters()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(queues: 2);

        var h = pair.Vhost.GetXStatNames();
        var g = pair.Virtio.GetXStatNames();

        string[] generic = ["rx_good_packets", "tx_good_packets", "rx_good_bytes", "tx_good_bytes", "rx_missed_errors", "rx_errors", "tx_errors", "rx_mbuf_allocation_errors"];
        var expectedHost = new List<string>(generic);
        var expectedGuest = new List<string>(generic);
        for (int q = 0; q < 2; q++)
        {
            expectedHost.AddRange([$"rx_q{q}_packets", $"rx_q{q}_bytes", $"rx_q{q}_errors"]);
            expectedGuest.AddRange([$"rx_q{q}_packets", $"rx_q{q}_bytes", $"rx_q{q}_errors"]);
        }

        for (int q = 0; q < 2; q++)
        {
            expectedHost.AddRange([$"tx_q{q}_packets", $"tx_q{q}_bytes"]);
            expectedGuest.AddRange([$"tx_q{q}_packets", $"tx_q{q}_bytes"]);
        }

        foreach (string dir in new[] { "rx", "tx" })
        {
            for (int q = 0; q < 2; q++)
            {
                expectedHost.AddRange(VhostClassNames.Select(n => $"{dir}_q{q}_{n}"));
                expectedHost.AddRange(new[] { "ring_faults", "ring_dropped", "ring_broken", "guest_notifications" }.Select(n => $"{dir}_q{q}_{n}"));
                if (dir == "rx")
                {
                    expectedHost.Add($"rx_q{q}_linear_drops");
                }

                expectedGuest.AddRange(VirtioClassNames.OfType<string>().Select(n => $"{dir}_q{q}_{n}"));
                expectedGuest.AddRange(new[] { "ring_faults", "ring_dropped", "ring_broken", "kicks", "in_flight" }.Select(n => $"{dir}_q{q}_{n}"));
            }
        }

        expectedHost.AddRange([
            "vhost_messages", "vhost_malformed_messages", "vhost_protocol_violations", "vhost_unsupported_requests",
            "vhost_connections", "vhost_connections_refused", "vhost_connections_dropped_for_errors", "vhost_disconnects",
            "vhost_connect_attempts_failed", "vhost_retire_timeouts", "vhost_broken_rings", "vhost_rarp_requests", "vhost_link_changes"]);
        expectedGuest.AddRange(["virtio_user_connections", "virtio_user_reconnects", "virtio_user_link_changes"]);

        Assert.Empty(expectedHost.Except(h));
        Assert.Empty(expectedGuest.Except(g));
        Assert.Equal(h.Count, h.Distinct().Count());
        Assert.Equal(g.Count, g.Distinct().Count());
        Assert.DoesNotContain("rx_q0_unicast_packets", g); // DPDK's virtio has none

        var hx = XStats(pair.Vhost);
        Assert.Equal(1, hx["vhost_connections"]);
        Assert.True(hx["vhost_messages"] > 10, $"{hx["vhost_messages"]} messages for a whole setup");
        Assert.Equal(1, hx["vhost_link_changes"]);
        var gx = XStats(pair.Virtio);
        Assert.Equal(1, gx["virtio_user_connections"]);
        Assert.Equal(0, gx["virtio_user_reconnects"]);
    }

    [Fact]
    public void ResetStats_zeroes_the_stats_and_every_counting_xstat_and_counting_goes_on_from_zero()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(queues: 2);
        for (int q = 0; q < 2; q++)
        {
            var f = TestFrames.Series([64, 300, 1500, 5000], 5, q, MacAddress.Broadcast, pair.Virtio.MacAddress);
            TestFrames.AssertSame(f, Traffic.Send(pair.Virtio, q, pair.VirtioPool, pair.Vhost, q, f), "before reset");
            f = TestFrames.Series([64, 300, 1500, 5000], 5, q, Multicast, TestFrames.HostMac);
            TestFrames.AssertSame(f, Traffic.Send(pair.Vhost, q, pair.VhostTxPool, pair.Virtio, q, f), "before reset");
        }

        Assert.NotEqual(0, pair.Vhost.GetStats().RxPackets);
        Assert.NotEqual(0, XStats(pair.Vhost)["vhost_messages"]);
        Assert.NotEqual(0, XStats(pair.Virtio)["virtio_user_connections"]);
        Assert.NotEqual(0, XStats(pair.Virtio)["rx_q0_in_flight"]); // buffers posted for the backend

        pair.Vhost.ResetStats();
        pair.Virtio.ResetStats();

        foreach (EthDev port in new EthDev[] { pair.Vhost, pair.Virtio })
        {
            var s = port.GetStats();
            Assert.Equal(0, s.RxPackets + s.TxPackets + s.RxBytes + s.TxBytes + s.RxErrors + s.TxErrors + s.RxNoMbuf + s.RxMissed);
            Assert.All(s.RxQueues, q => Assert.Equal(default, q));
            Assert.All(s.TxQueues, q => Assert.Equal(default, q));
            foreach (var x in port.GetXStats().Where(IsResettable))
            {
                Assert.True(x.Value == 0, $"{port.Name}: {x.Name} = {x.Value} after ResetStats");
            }
        }

        Assert.NotEqual(0, XStats(pair.Virtio)["rx_q0_in_flight"]); // a gauge, not a counter: it stays

        // Counting goes on from zero.
        var again = TestFrames.Series([1500], 3, 1, MacAddress.Broadcast, pair.Virtio.MacAddress);
        TestFrames.AssertSame(again, Traffic.Send(pair.Virtio, 1, pair.VirtioPool, pair.Vhost, 1, again), "after reset");
        var hx = XStats(pair.Vhost);
        Assert.Equal(3, pair.Vhost.GetStats().RxPackets);
        Assert.Equal(3, pair.Vhost.GetStats().RxQueues[1].Packets);
        Assert.Equal(4500, pair.Vhost.GetStats().RxBytes);
        Assert.Equal(3, hx["rx_q1_broadcast_packets"]);
        Assert.Equal(3, hx["rx_q1_size_1024_to_1522_packets"]);
        Assert.Equal(0, hx["rx_q0_broadcast_packets"]);
        Assert.Equal(3, XStats(pair.Virtio)["tx_q1_size_1024_1518_packets"]);
    }

    [Fact]
    public void Size_bins_and_address_classes_count_a_known_mix_on_both_sides_in_both_directions()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();
        int[] sizes = [60, 64, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024, 1518, 1519, 1522, 1523, 4000, 9000];
        MacAddress[] destinations = [MacAddress.Broadcast, Multicast, TestFrames.HostMac];
        var up = new List<byte[]>();
        var down = new List<byte[]>();
        for (int i = 0; i < sizes.Length * 3; i++)
        {
            MacAddress dst = destinations[i % 3 == 0 ? 0 : i % 5 == 0 ? 1 : 2];
            up.Add(TestFrames.Make(sizes[i % sizes.Length], i, 0, dst, pair.Virtio.MacAddress));
            down.Add(TestFrames.Make(sizes[(i * 7) % sizes.Length], i, 0, dst, TestFrames.HostMac));
        }

        TestFrames.AssertSame(up, Traffic.Send(pair.Virtio, 0, pair.VirtioPool, pair.Vhost, 0, up), "up");
        TestFrames.AssertSame(down, Traffic.Send(pair.Vhost, 0, pair.VhostTxPool, pair.Virtio, 0, down), "down");

        var hx = XStats(pair.Vhost);
        var gx = XStats(pair.Virtio);
        AssertClasses(Expected(up, VhostLargeLimit), hx, "rx_q0_", VhostClassNames, "net_vhost Rx");
        AssertClasses(Expected(down, VhostLargeLimit), hx, "tx_q0_", VhostClassNames, "net_vhost Tx");
        AssertClasses(Expected(down), gx, "rx_q0_", VirtioClassNames, "virtio_user Rx");
    }

    /// <summary>
    /// virtio_user's Tx class counters must class the frame the application sent, not what the ring sees after the
    /// frontend pushed the 12-byte virtio-net header into the mbuf's headroom (the header's zeros as the destination
    /// MAC, every length 12 bytes too long). Regression test.
    /// </summary>
    [Fact]
    public void Virtio_user_tx_class_counters_class_the_frame_not_the_virtio_net_header()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();
        int[] sizes = [60, 64, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024, 1518, 1519, 1522, 1523, 4000, 9000];
        MacAddress[] destinations = [MacAddress.Broadcast, Multicast, TestFrames.HostMac];
        var up = new List<byte[]>();
        for (int i = 0; i < sizes.Length * 3; i++)
        {
            up.Add(TestFrames.Make(sizes[i % sizes.Length], i, 0, destinations[i % 3], pair.Virtio.MacAddress));
        }

        TestFrames.AssertSame(up, Traffic.Send(pair.Virtio, 0, pair.VirtioPool, pair.Vhost, 0, up), "up");

        AssertClasses(Expected(up), XStats(pair.Virtio), "tx_q0_", VirtioClassNames, "virtio_user Tx");
    }

    /// <summary>
    /// net_vhost's Tx queue counts a packet the guest had no buffer for as one Tx error (DPDK's missed_pkts, in
    /// oerrors); the packet stays with the caller. Here virtio_user does not poll, so its receive ring fills up.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_packet_net_vhost_could_not_place_counts_as_exactly_one_tx_error(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: "queue_size=64" + (packed ? ",packed_vq=1" : ""));
        var frames = TestFrames.Series([64], 200, 0, pair.Virtio.MacAddress, TestFrames.HostMac);

        int taken = Traffic.SendOnce(pair.Vhost, 0, pair.VhostTxPool, frames);

        Assert.InRange(taken, 1, 64);
        int missed = frames.Count - taken;
        var s = pair.Vhost.GetStats();
        Assert.Equal(taken, s.TxPackets);
        Assert.Equal(missed, XStats(pair.Vhost)["tx_q0_ring_dropped"]);
        Assert.True(missed == s.TxErrors, $"{missed} packets found no guest buffer (and were left to the caller), but tx_errors = {s.TxErrors}");
        TestFrames.AssertSame(frames.Take(taken).ToList(), Traffic.Drain(pair.Virtio, 0), "what the ring took");
    }

    /// <summary>Every xstat is a counter that ResetStats zeroes, except virtio_user's in_flight gauges.</summary>
    private static bool IsResettable(XStat x) => !x.Name.EndsWith("_in_flight", StringComparison.Ordinal);

    /// <summary>What a port should count for <paramref name="frames"/>: multicast, broadcast, unicast, then the 8 size bins (RFC 2819).</summary>
    /// <summary>Where the large-frame bin ends: DPDK's vhost 1522, its virtio 1518.</summary>
    private const int VhostLargeLimit = 1522;

    private static long[] Expected(IEnumerable<byte[]> frames, int largeLimit = 1518)
    {
        var c = new long[11];
        foreach (byte[] f in frames)
        {
            bool group = (f[0] & 1) != 0;
            bool broadcast = f.AsSpan(0, 6).IndexOfAnyExcept((byte)0xFF) < 0;
            c[broadcast ? 1 : group ? 0 : 2]++;
            int bin = f.Length < 64 ? 0 : f.Length == 64 ? 1 : f.Length <= 127 ? 2 : f.Length <= 255 ? 3 : f.Length <= 511 ? 4 : f.Length <= 1023 ? 5 : f.Length <= largeLimit ? 6 : 7;
            c[3 + bin]++;
        }

        return c;
    }

    private static void AssertClasses(long[] expected, Dictionary<string, long> xstats, string prefix, IReadOnlyList<string?> names, string what)
    {
        var wrong = new List<string>();
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] is { } name && expected[i] != xstats[prefix + name])
            {
                wrong.Add($"{prefix + name} = {xstats[prefix + name]} (expected {expected[i]})");
            }
        }

        Assert.True(wrong.Count == 0, $"{what}: {string.Join(", ", wrong)}");
    }

    private static Dictionary<string, long> XStats(EthDev port) => port.GetXStats().ToDictionary(x => x.Name, x => x.Value);
}
