namespace Hyperlane.Memory.Tests;

/// <summary>Multi-segment packets: building a 64 KiB chain, the segment and length limits, freeing chains.</summary>
public class MbufChainTests
{
    [Theory]
    [InlineData(2048)]                          // 1920 bytes after the headroom: 35 segments
    [InlineData(Mempool.DefaultDataRoomSize)]   // 2048 bytes after the headroom: 32 segments
    public void A_64KiB_packet_from_2KiB_segments(int dataRoomSize)
    {
        using var pool = Mempool.CreatePacketPool("chain-64k", 64, cacheSize: 0, dataRoomSize: dataRoomSize);
        int perSegment = dataRoomSize - MbufHeader.DefaultHeadroom;
        int expectedSegments = (Mbuf.MaxPacketLength + perSegment - 1) / perSegment;
        byte[] content = Pattern(Mbuf.MaxPacketLength, seed: dataRoomSize);

        Mbuf head = pool.Alloc();
        Assert.True(head.TryAppend(perSegment, out Span<byte> first));
        content.AsSpan(0, perSegment).CopyTo(first);
        int written = perSegment;
        Mbuf last = head;
        while (written < content.Length)
        {
            Mbuf seg = pool.Alloc();
            Assert.False(seg.IsNull);
            int n = Math.Min(seg.Tailroom, content.Length - written);
            Assert.True(seg.TryAppend(n, out Span<byte> data));
            content.AsSpan(written, n).CopyTo(data);
            Assert.True(head.TryChain(seg), $"chaining segment {head.SegmentCount} at {written} bytes");
            written += n;
            last = seg;
        }

        Assert.Equal((uint)Mbuf.MaxPacketLength, head.PacketLength);
        Assert.Equal(expectedSegments, head.SegmentCount);
        Assert.Equal(last, head.LastSegment);
        Assert.True(last.Next.IsNull);
        Assert.Equal(head.SegmentCount, pool.Audit().InUse);
        Assert.Null(head.Validate());

        var copy = new byte[Mbuf.MaxPacketLength + 10];
        Assert.Equal(Mbuf.MaxPacketLength, head.CopyTo(copy));
        Assert.True(copy.AsSpan(0, Mbuf.MaxPacketLength).SequenceEqual(content));

        // Walking Next visits exactly the segments, with the data where CopyTo found it.
        int segments = 0;
        int offset = 0;
        for (Mbuf s = head; !s.IsNull; s = s.Next)
        {
            Assert.True(s.Data.SequenceEqual(content.AsSpan(offset, s.DataLength)));
            offset += s.DataLength;
            segments++;
        }

        Assert.Equal(expectedSegments, segments);
        Assert.Equal(Mbuf.MaxPacketLength, offset);

        // Full: no byte more, by append, prepend or chaining.
        Assert.False(head.TryAppend(1, out _));
        Assert.False(head.TryPrepend(1, out _));
        Mbuf extra = pool.Alloc();
        Assert.True(extra.TryAppend(1, out Span<byte> x));
        x[0] = 0x77;
        Assert.False(head.TryChain(extra));
        Assert.Equal((uint)Mbuf.MaxPacketLength, head.PacketLength);
        Assert.Equal(expectedSegments, head.SegmentCount);
        Assert.Equal(last, head.LastSegment);
        Assert.True(last.Next.IsNull);
        Assert.Equal(1u, extra.PacketLength);
        Assert.Equal(1, extra.SegmentCount);
        Assert.True(extra.Next.IsNull);
        Assert.Null(head.Validate());
        Assert.Null(extra.Validate());

        head.Free();
        Assert.Equal(1, pool.Audit().InUse);
        extra.Free();
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(pool.Capacity, pool.Audit().InRing);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Chaining_past_MaxSegments_fails_and_changes_nothing()
    {
        using var pool = Mempool.CreatePacketPool("chain-segs", 300, cacheSize: 0, dataRoomSize: 256);
        Mbuf head = OneBytePacket(pool, 0);
        Mbuf last = head;
        for (int i = 1; i < Mbuf.MaxSegments - 1; i++)
        {
            last = OneBytePacket(pool, i);
            Assert.True(head.TryChain(last));
        }

        Assert.Equal(Mbuf.MaxSegments - 1, head.SegmentCount);

        // A two-segment tail would make 256.
        Mbuf pair = OneBytePacket(pool, 1000);
        Mbuf pairTail = OneBytePacket(pool, 1001);
        Assert.True(pair.TryChain(pairTail));
        Assert.False(head.TryChain(pair));
        Assert.Equal(Mbuf.MaxSegments - 1, head.SegmentCount);
        Assert.Equal((uint)(Mbuf.MaxSegments - 1), head.PacketLength);
        Assert.Equal(last, head.LastSegment);
        Assert.Equal(2, pair.SegmentCount);
        Assert.Equal(2u, pair.PacketLength);
        Assert.Equal(pairTail, pair.Next);

        // One more segment reaches exactly 255.
        Mbuf final = OneBytePacket(pool, 255);
        Assert.True(head.TryChain(final));
        Assert.Equal(Mbuf.MaxSegments, head.SegmentCount);
        Assert.Equal((uint)Mbuf.MaxSegments, head.PacketLength);
        Assert.Null(head.Validate());

        Mbuf over = OneBytePacket(pool, 256);
        Assert.False(head.TryChain(over));
        Assert.Equal(Mbuf.MaxSegments, head.SegmentCount);
        Assert.Equal((uint)Mbuf.MaxSegments, head.PacketLength);
        Assert.Equal(final, head.LastSegment);
        Assert.True(final.Next.IsNull);
        Assert.Equal(1, over.SegmentCount);
        Assert.Equal(1u, over.PacketLength);
        Assert.Null(head.Validate());

        Assert.Equal(Mbuf.MaxSegments + 3, pool.Audit().InUse);
        Mbuf.FreeBulk([head, pair, over]);
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Chaining_a_multi_segment_tail_moves_its_totals_to_the_head()
    {
        using var pool = Mempool.CreatePacketPool("chain-tail", 8, cacheSize: 0, dataRoomSize: 512);
        Mbuf a = Filled(pool, 100, 1);
        Mbuf b = Filled(pool, 200, 2);
        Mbuf c = Filled(pool, 300, 3);
        Assert.True(b.TryChain(c));
        Assert.Equal(500u, b.PacketLength);
        Assert.Equal(2, b.SegmentCount);

        Assert.True(a.TryChain(b));
        Assert.Equal(600u, a.PacketLength);
        Assert.Equal(3, a.SegmentCount);
        Assert.Equal(c, a.LastSegment);

        // Only the first segment carries packet totals (rte_pktmbuf_chain).
        Assert.Equal(200u, b.PacketLength);
        Assert.Equal(1, b.SegmentCount);
        Assert.Null(a.Validate());

        var bytes = new byte[600];
        Assert.Equal(600, a.CopyTo(bytes));
        Assert.True(bytes.AsSpan(0, 100).IndexOfAnyExcept((byte)1) < 0);
        Assert.True(bytes.AsSpan(100, 200).IndexOfAnyExcept((byte)2) < 0);
        Assert.True(bytes.AsSpan(300, 300).IndexOfAnyExcept((byte)3) < 0);

        // Append and trim act on the last segment; adj on the first.
        Assert.True(a.TryAppend(12, out Span<byte> t));
        t.Fill(4);
        Assert.Equal(312, c.DataLength);
        Assert.Equal(612u, a.PacketLength);
        Assert.False(a.TryTrim(313)); // more than the last segment holds
        Assert.True(a.TryTrim(312));
        Assert.Equal(0, c.DataLength);
        Assert.Equal(300u, a.PacketLength);
        Assert.True(a.TryAdj(100));
        Assert.Equal(0, a.DataLength);
        Assert.Equal(200u, a.PacketLength);
        Assert.Null(a.Validate());

        // Self and null tails are refused.
        Assert.False(a.TryChain(a));
        Assert.False(a.TryChain(default));
        Assert.Equal(3, a.SegmentCount);

        a.Free();
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Free_returns_every_segment_of_every_packet()
    {
        using var pool = Mempool.CreatePacketPool("chain-free", 40, cacheSize: 0, dataRoomSize: 256);
        var packets = new Mbuf[4];
        for (int p = 0; p < packets.Length; p++)
        {
            packets[p] = Filled(pool, 10, (byte)p);
            for (int s = 1; s < 8; s++)
            {
                Assert.True(packets[p].TryChain(Filled(pool, 10, (byte)p)));
            }
        }

        Assert.Equal(32, pool.Audit().InUse);
        packets[0].Free();
        Assert.Equal(24, pool.Audit().InUse);
        Mbuf.FreeBulk(packets.AsSpan(1));
        MempoolAudit audit = pool.Audit();
        Assert.Equal(0, audit.InUse);
        Assert.Equal(pool.Capacity, audit.Available);
        Assert.Equal(0, pool.DoubleFreeCount);

        // Every returned segment is a clean single segment again.
        var all = new Mbuf[pool.Capacity];
        Assert.Equal(all.Length, pool.AllocBulk(all));
        foreach (Mbuf m in all)
        {
            Assert.Equal(1, m.SegmentCount);
            Assert.True(m.Next.IsNull);
            Assert.Equal(1, m.RefCount);
        }

        Mbuf.FreeBulk(all);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void FreeBulk_of_packets_from_several_pools_returns_each_to_its_own()
    {
        using var p1 = Mempool.CreatePacketPool("chain-pool1", 100, cacheSize: 0, dataRoomSize: 256);
        using var p2 = Mempool.CreatePacketPool("chain-pool2", 100, cacheSize: 0, dataRoomSize: 256);
        var packets = new Mbuf[70];
        for (int i = 0; i < packets.Length; i++)
        {
            Mempool a = i % 3 == 0 ? p1 : p2;
            Mempool b = i % 2 == 0 ? p1 : p2;
            packets[i] = Filled(a, 1, 1);
            Assert.True(packets[i].TryChain(Filled(b, 1, 1)));
        }

        Assert.Equal(140, p1.Audit().InUse + p2.Audit().InUse);
        Mbuf.FreeBulk(packets);
        Assert.True(p1.Audit().IsFull);
        Assert.True(p2.Audit().IsFull);
        Assert.Equal(0, p1.DoubleFreeCount);
        Assert.Equal(0, p2.DoubleFreeCount);
    }

    private static Mbuf OneBytePacket(Mempool pool, int tag) => Filled(pool, 1, (byte)tag);

    private static Mbuf Filled(Mempool pool, int length, byte value)
    {
        Mbuf m = pool.Alloc();
        Assert.False(m.IsNull);
        Assert.True(m.TryAppend(length, out Span<byte> d));
        d.Fill(value);
        return m;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
