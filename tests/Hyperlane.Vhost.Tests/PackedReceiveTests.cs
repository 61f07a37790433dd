using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Host → guest over a packed receiveq: <see cref="PackedVhostQueue.Enqueue"/> against a spec-following test driver.</summary>
public sealed class PackedReceiveTests
{
    private const ushort UsedWrap1Write = (ushort)(VirtqDescFlags.Avail | VirtqDescFlags.Used | VirtqDescFlags.Write);

    [Theory]
    [InlineData(64)]
    [InlineData(1500)]
    [InlineData(1524)] // exactly one 1536-byte buffer with the header
    [InlineData(1525)]
    [InlineData(4000)]
    [InlineData(9000)]
    public void With_mrg_rxbuf_a_packet_spreads_over_as_many_buffers_as_it_needs(int size)
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        for (int i = 0; i < 10; i++)
        {
            b.PostRx(1536);
        }

        byte[] payload = PackedTestBench.Pattern(size, size);
        Mbuf packet = b.MakePacket(payload);

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        var (header, received, buffers) = b.ReceivePacket();
        Assert.Equal(payload, received);
        Assert.Equal((12 + size + 1535) / 1536, buffers);
        Assert.Equal(default, header with { NumBuffers = 0 });
        Assert.Equal(1, b.Stats.Packets);
        Assert.Equal(size, b.Stats.Bytes);
        Assert.Equal(0, b.Stats.Dropped);
        Assert.Equal((uint)buffers | 0x8000, b.Queue.GetBase());
        packet.Free();
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(64, PackedTestBench.Modern)]
    [InlineData(9000, PackedTestBench.Modern)]
    [InlineData(64, PackedTestBench.RingPacked)]   // legacy 10-byte header
    [InlineData(9000, PackedTestBench.RingPacked)]
    public void Without_mrg_rxbuf_a_packet_fills_one_chain(int size, ulong features)
    {
        using var b = PackedTestBench.Create(features: features);
        ushort id = b.PostRx(10, 2, 4000, 4000, 1200); // 9212 bytes in five descriptors
        b.PostRx(9212);
        byte[] payload = PackedTestBench.Pattern(size, 1);
        Mbuf packet = b.MakePacket(payload);

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        Assert.True(b.Driver.TryTakeUsed(out var used));
        Assert.Equal(id, used.Id);
        Assert.Equal((uint)(b.HeaderLength + size), used.Len);
        Assert.Equal(UsedWrap1Write, used.Flags);
        byte[] written = b.Written(used);
        Assert.Equal(payload, written[b.HeaderLength..]);
        if (b.HeaderLength == 12)
        {
            Assert.Equal(1, BitConverter.ToUInt16(written, 10)); // num_buffers = 1 without MRG_RXBUF
        }

        Assert.All(written[..Math.Min(10, b.HeaderLength)], x => Assert.Equal(0, x));
        Assert.False(b.Driver.TryTakeUsed(out _));
        packet.Free();
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(new[] { 5, 4, 3, 2000 }, false)]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2000 }, false)]
    [InlineData(new[] { 7, 2000 }, true)]
    [InlineData(new[] { 12, 100, 100, 2000 }, true)]
    public void The_header_may_span_descriptors_and_tables(int[] lengths, bool indirect)
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf | PackedTestBench.IndirectDesc);
        b.PostRx(indirect, lengths);
        b.PostRx(indirect, lengths);
        byte[] payload = PackedTestBench.Pattern(1800, 5);
        Mbuf packet = b.MakePacket(payload);

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        var (_, received, buffers) = b.ReceivePacket();
        Assert.Equal(payload, received);
        Assert.Equal(1, buffers);
        packet.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void Without_mrg_rxbuf_a_packet_too_big_for_the_chain_is_dropped_and_the_chain_kept_for_the_next()
    {
        using var b = PackedTestBench.Create();
        ushort id = b.PostRx(1000);
        Mbuf big = b.MakePacket(PackedTestBench.Pattern(1500, 1));
        Mbuf small = b.MakePacket(PackedTestBench.Pattern(500, 2));

        Assert.Equal(1, b.Queue.Enqueue([big]));  // done with it: dropped
        Assert.Equal(1, b.Stats.Dropped);
        Assert.Empty(b.Driver.TakeAllUsed());
        Assert.Equal(0x8000u, b.Queue.GetBase());

        Assert.Equal(2, b.Queue.Enqueue([big, small, big])); // the last finds no buffer: the burst stops there
        Assert.Equal(3, b.Stats.Dropped);
        Assert.Equal(1, b.Stats.Packets);
        var used = Assert.Single(b.Driver.TakeAllUsed());
        Assert.Equal(id, used.Id);
        Assert.Equal(PackedTestBench.Pattern(500, 2), b.Written(used)[12..]);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        big.Free();
        small.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_null_packet_is_dropped_and_the_burst_goes_on()
    {
        using var b = PackedTestBench.Create();
        b.PostRx(2000);
        Mbuf p = b.MakePacket(PackedTestBench.Pattern(100, 1));

        Assert.Equal(2, b.Queue.Enqueue([default, p]));

        Assert.Equal(1, b.Stats.Dropped);
        Assert.Equal(PackedTestBench.Pattern(100, 1), b.ReceivePacket().Payload);
        p.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_no_buffers_nothing_is_delivered_and_all_count_as_dropped()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        Mbuf[] packets = [b.MakePacket(PackedTestBench.Pattern(100, 1)), b.MakePacket(PackedTestBench.Pattern(100, 2))];

        Assert.Equal(0, b.Queue.Enqueue(packets));
        Assert.Equal(2, b.Stats.Dropped);
        Assert.Equal(0, b.Queue.Enqueue(ReadOnlySpan<Mbuf>.Empty));
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_burst_delivers_what_fits_from_the_start()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        for (int i = 0; i < 6; i++)
        {
            b.PostRx(2048);
        }

        var packets = Enumerable.Range(0, 10).Select(i => b.MakePacket(PackedTestBench.Pattern(1000 + i, i))).ToArray();

        Assert.Equal(6, b.Queue.Enqueue(packets));
        Assert.Equal(4, b.Stats.Dropped);
        for (int i = 0; i < 6; i++)
        {
            var (_, payload, buffers) = b.ReceivePacket();
            Assert.Equal(PackedTestBench.Pattern(1000 + i, i), payload);
            Assert.Equal(1, buffers);
        }

        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_mrg_rxbuf_a_packet_that_runs_out_of_buffers_publishes_nothing_and_waits()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        b.PostRx(1536);
        b.PostRx(1536);
        byte[] payload = PackedTestBench.Pattern(9000, 3);
        Mbuf packet = b.MakePacket(payload);

        Assert.Equal(0, b.Queue.Enqueue([packet]));
        Assert.Empty(b.Driver.TakeAllUsed());
        Assert.Equal(0x8000u, b.Queue.GetBase());

        for (int i = 0; i < 4; i++)
        {
            b.PostRx(1536);
        }

        Assert.Equal(1, b.Queue.Enqueue([packet]));
        var (header, received, buffers) = b.ReceivePacket();
        Assert.Equal(payload, received);
        Assert.Equal(6, buffers);
        Assert.Equal(6, header.NumBuffers);
        packet.Free();
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(256, true)]
    [InlineData(250, true)]
    [InlineData(250, false)]
    [InlineData(5, true)]
    public void The_ring_wraps_many_times(int size, bool mergeable)
    {
        ulong features = PackedTestBench.Modern | PackedTestBench.IndirectDesc | (mergeable ? PackedTestBench.MrgRxbuf : 0);
        using var b = PackedTestBench.Create(size: size, features: features);
        var rng = new Random(size);
        int delivered = 0, drained = 0;
        var mbufs = new Mbuf[8];
        while (delivered < size * 12)
        {
            // Buffers: chains of 1..3 descriptors (sometimes indirect), 1000..3000 bytes.
            while (b.Driver.FreeDescriptors >= 3 && b.Driver.InFlightChains < 40)
            {
                int parts = rng.Next(1, 4);
                int[] lengths = Enumerable.Range(0, parts).Select(_ => mergeable ? rng.Next(100, 1000) : 3200).ToArray();
                b.PostRx(rng.Next(5) == 0, lengths);
            }

            int n = rng.Next(1, mbufs.Length + 1);
            var sizes = new int[n];
            for (int i = 0; i < n; i++)
            {
                sizes[i] = rng.Next(60, mergeable ? 4000 : 3000);
                mbufs[i] = b.MakePacket(PackedTestBench.Pattern(sizes[i], delivered + i));
            }

            int done = b.Queue.Enqueue(mbufs.AsSpan(0, n));
            Assert.True(done > 0 || mergeable, "no packet delivered into chains that hold any of them");
            for (int i = 0; i < done; i++)
            {
                var (_, payload, _) = b.ReceivePacket();
                Assert.Equal(PackedTestBench.Pattern(sizes[i], delivered + i), payload);
            }

            Mbuf.FreeBulk(mbufs.AsSpan(0, n));
            delivered += done;
            if (done == 0 || b.Guest.ScratchUsed > (6 << 20))
            {
                // Not enough buffers for the first packet, or scratch memory to reclaim: use the posted buffers up.
                drained += DrainBySmallPackets(b);
            }
        }

        Assert.Equal(0, b.Stats.Faults);
        Assert.Equal(delivered + drained, b.Stats.Packets);
        b.AssertNoLeaks();
    }

    /// <summary>Uses up the posted buffers with small packets so the scratch memory can be reused.</summary>
    private static int DrainBySmallPackets(PackedTestBench b)
    {
        Mbuf small = b.MakePacket(PackedTestBench.Pattern(10, 0));
        int n = 0;
        while (b.Driver.InFlightChains > 0)
        {
            Assert.Equal(1, b.Queue.Enqueue([small]));
            b.ReceivePacket();
            n++;
        }

        small.Free();
        b.Guest.ResetScratch();
        return n;
    }

    [Fact]
    public void Bytes_past_the_packet_in_a_buffer_are_not_touched()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        b.PostRx(100, 1000);
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(200, 1));

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        Assert.True(b.Driver.TryTakeUsed(out var used));
        Assert.Equal(212u, used.Len);
        Assert.All(b.Guest.Bytes(used.Elements[1].Gpa, 1000)[112..].ToArray(), x => Assert.Equal(0xEE, x));
        packet.Free();
        b.AssertNoLeaks();
    }
}
