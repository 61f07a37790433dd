using System.Runtime.InteropServices;

namespace Hyperlane.Memory.Tests;

/// <summary>Single-segment mbuf operations: fresh state, append/prepend/adj/trim, data, copy, validate, reset, references.</summary>
public unsafe class MbufOperationTests : IDisposable
{
    private const int PrivSize = 24;
    private readonly Mempool pool = Mempool.CreatePacketPool("mbuf-ops", 64, cacheSize: 0, privateSize: PrivSize);

    public void Dispose()
    {
        Assert.True(pool.Audit().IsFull, $"test leaked mbufs: {pool.Audit()}");
        Assert.Equal(0, pool.DoubleFreeCount);
        pool.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Fresh_mbuf_from_a_packet_pool_is_empty_with_default_headroom()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.False(m.IsNull);
            Assert.Equal(128, m.DataOffset);
            Assert.Equal(128, m.Headroom);
            Assert.Equal(0, m.DataLength);
            Assert.Equal(0u, m.PacketLength);
            Assert.Equal(1, m.SegmentCount);
            Assert.Equal(1, m.RefCount);
            Assert.Equal(0xFFFF, m.Port);
            Assert.Equal(MbufHeader.PortInvalid, m.Port);
            Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
            Assert.Equal(0u, m.PacketType);
            Assert.Equal(0, m.VlanTci);
            Assert.True(m.Next.IsNull);
            Assert.Equal(m, m.LastSegment);
            Assert.False(m.IsExternal);
            Assert.Equal(Mempool.DefaultDataRoomSize, m.BufferLength);
            Assert.Equal(Mempool.DefaultDataRoomSize - 128, m.Tailroom);
            Assert.Equal(m.Pointer + MbufHeader.Size + PrivSize, m.BufferAddress);
            Assert.Equal((ulong)m.BufferAddress + 128, m.DataIova);
            Assert.Equal(PrivSize, m.Header.PrivSize);
            Assert.Equal(pool.Id, m.Header.PoolId);
            Assert.Same(pool, m.Pool);
            Assert.True(pool.Contains(m.Pointer));
            Assert.Equal(0, m.Data.Length);
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Private_size_is_rounded_up_to_8_bytes()
    {
        using var odd = Mempool.CreatePacketPool("mbuf-priv-odd", 4, cacheSize: 0, privateSize: 13);
        Assert.Equal(16, odd.PrivateSize);
        Mbuf m = odd.Alloc();
        Assert.Equal(m.Pointer + MbufHeader.Size + 16, m.BufferAddress);
        m.Free();
        Assert.True(odd.Audit().IsFull);
    }

    [Fact]
    public void Append_up_to_exactly_the_tailroom_then_one_more_fails()
    {
        Mbuf m = pool.Alloc();
        try
        {
            int room = m.Tailroom;
            Assert.False(m.TryAppend(room + 1, out Span<byte> none));
            Assert.True(none.IsEmpty);
            Assert.Equal(0, m.DataLength);
            Assert.Equal(0u, m.PacketLength);

            Assert.False(m.TryAppend(-1, out _));
            Assert.False(m.TryAppend(int.MinValue, out _));
            Assert.Equal(0, m.DataLength);

            Assert.True(m.TryAppend(100, out Span<byte> a));
            Assert.Equal(100, a.Length);
            Assert.Equal(100, m.DataLength);
            Assert.Equal(100u, m.PacketLength);
            fixed (byte* p = a)
            {
                Assert.Equal(m.BufferAddress + 128, (nint)p);
            }

            Assert.True(m.TryAppend(0, out Span<byte> empty));
            Assert.True(empty.IsEmpty);

            Assert.True(m.TryAppend(room - 100, out Span<byte> b));
            Assert.Equal(room - 100, b.Length);
            Assert.Equal(0, m.Tailroom);
            Assert.Equal(room, m.DataLength);
            Assert.Equal((uint)room, m.PacketLength);

            Assert.False(m.TryAppend(1, out _));
            Assert.Equal(room, m.DataLength);
            Assert.Equal((uint)room, m.PacketLength);
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Prepend_up_to_exactly_the_headroom_then_one_more_fails()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.True(m.TryAppend(10, out _));
            Assert.False(m.TryPrepend(129, out Span<byte> none));
            Assert.True(none.IsEmpty);
            Assert.False(m.TryPrepend(-1, out _));
            Assert.Equal(128, m.Headroom);
            Assert.Equal(10u, m.PacketLength);

            Assert.True(m.TryPrepend(14, out Span<byte> eth));
            Assert.Equal(14, eth.Length);
            Assert.Equal(114, m.Headroom);
            Assert.Equal(24, m.DataLength);
            Assert.Equal(24u, m.PacketLength);
            fixed (byte* p = eth)
            fixed (byte* d = m.Data)
            {
                Assert.Equal((nint)d, (nint)p);
                Assert.Equal(m.BufferAddress + 114, (nint)p);
            }

            Assert.False(m.TryPrepend(115, out _));
            Assert.True(m.TryPrepend(114, out Span<byte> rest));
            Assert.Equal(114, rest.Length);
            Assert.Equal(0, m.Headroom);
            Assert.Equal(138u, m.PacketLength);
            Assert.Equal(m.BufferAddress, m.BufferAddress + m.DataOffset);

            Assert.False(m.TryPrepend(1, out _));
            Assert.True(m.TryPrepend(0, out _));
            Assert.Equal(138, m.DataLength);
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Adj_removes_from_the_front_up_to_the_data_length()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.True(m.TryAppend(60, out Span<byte> d));
            for (int i = 0; i < d.Length; i++)
            {
                d[i] = (byte)i;
            }

            Assert.False(m.TryAdj(61));
            Assert.False(m.TryAdj(-1));
            Assert.Equal(60, m.DataLength);

            Assert.True(m.TryAdj(14));
            Assert.Equal(128 + 14, m.DataOffset);
            Assert.Equal(46, m.DataLength);
            Assert.Equal(46u, m.PacketLength);
            Assert.Equal(14, m.Data[0]);

            Assert.True(m.TryAdj(46));
            Assert.Equal(0, m.DataLength);
            Assert.Equal(0u, m.PacketLength);
            Assert.False(m.TryAdj(1));
            Assert.True(m.TryAdj(0));
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Trim_removes_from_the_end_up_to_the_data_length()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.True(m.TryAppend(64, out Span<byte> d));
            d.Fill(3);
            Assert.False(m.TryTrim(65));
            Assert.False(m.TryTrim(-1));
            Assert.False(m.TryTrim(int.MinValue));
            Assert.Equal(64, m.DataLength);

            Assert.True(m.TryTrim(4)); // e.g. drop the FCS
            Assert.Equal(60, m.DataLength);
            Assert.Equal(60u, m.PacketLength);
            Assert.Equal(128, m.DataOffset);
            Assert.Equal(Mempool.DefaultDataRoomSize - 128 - 60, m.Tailroom);

            Assert.True(m.TryTrim(60));
            Assert.Equal(0, m.DataLength);
            Assert.Equal(0u, m.PacketLength);
            Assert.False(m.TryTrim(1));
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Data_span_reflects_writes_and_CopyTo_copies_them()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.True(m.TryAppend(5, out Span<byte> tail));
            "hello"u8.CopyTo(tail);
            Assert.True(m.Data.SequenceEqual("hello"u8));

            m.Data[0] = (byte)'j';
            Assert.True(tail.SequenceEqual("jello"u8));
            Assert.True(new ReadOnlySpan<byte>((void*)(m.BufferAddress + m.DataOffset), 5).SequenceEqual("jello"u8));

            Assert.True(m.TryPrepend(3, out Span<byte> head));
            "<<<"u8.CopyTo(head);
            Assert.True(m.Data.SequenceEqual("<<<jello"u8));

            var all = new byte[16];
            Assert.Equal(8, m.CopyTo(all));
            Assert.True(all.AsSpan(0, 8).SequenceEqual("<<<jello"u8));
            Assert.True(all.AsSpan(8).IndexOfAnyExcept((byte)0) < 0);

            var small = new byte[4];
            Assert.Equal(4, m.CopyTo(small));
            Assert.True(small.AsSpan().SequenceEqual("<<<j"u8));
            Assert.Equal(0, m.CopyTo(Span<byte>.Empty));
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Validate_reports_each_kind_of_corruption()
    {
        Assert.Equal("null mbuf", default(Mbuf).Validate());

        Mbuf a = pool.Alloc();
        Mbuf b = pool.Alloc();
        try
        {
            Assert.True(a.TryAppend(100, out _));
            Assert.True(b.TryAppend(50, out _));
            Assert.True(a.TryChain(b));
            Assert.Null(a.Validate());

            a.Header.NbSegs = 3;
            Assert.Equal("nb_segs 3 but 2 segments", a.Validate());
            a.Header.NbSegs = 2;

            a.Header.PktLen = 151;
            Assert.Equal("pkt_len 151 but segments hold 150", a.Validate());
            a.Header.PktLen = 150;

            b.Header.DataLen = (ushort)(b.BufferLength - b.DataOffset + 1);
            Assert.Equal($"segment 1: data [128, +{b.BufferLength - 127}) past buffer of {b.BufferLength}", a.Validate());
            b.Header.DataLen = 50;

            b.Header.Next = a.Pointer; // a loop
            Assert.Equal("segment chain too long or looped", a.Validate());
            b.Header.Next = 0;

            Assert.Null(a.Validate());
        }
        finally
        {
            a.Free();
        }
    }

    [Fact]
    public void Reset_returns_every_packet_field_to_the_fresh_state()
    {
        Mbuf m = pool.Alloc();
        try
        {
            Assert.True(m.TryAppend(200, out _));
            Assert.True(m.TryPrepend(20, out _));
            m.Port = 3;
            m.OffloadFlags = MbufOffloadFlags.RxVlan | MbufOffloadFlags.TxTcpSegmentation;
            m.PacketType = 0x11;
            m.VlanTci = 100;
            m.L2Length = 14;
            m.L3Length = 20;
            m.L4Length = 20;
            m.TsoSegmentSize = 1448;
            m.Header.VlanTciOuter = 7;

            m.Reset();

            Assert.Equal(128, m.DataOffset);
            Assert.Equal(0, m.DataLength);
            Assert.Equal(0u, m.PacketLength);
            Assert.Equal(1, m.SegmentCount);
            Assert.True(m.Next.IsNull);
            Assert.Equal(MbufHeader.PortInvalid, m.Port);
            Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
            Assert.Equal(0u, m.PacketType);
            Assert.Equal(0, m.VlanTci);
            Assert.Equal(0, m.L2Length);
            Assert.Equal(0, m.L3Length);
            Assert.Equal(0, m.L4Length);
            Assert.Equal(0, m.TsoSegmentSize);
            Assert.Equal(0, m.Header.VlanTciOuter);
            Assert.Equal(1, m.RefCount);
            Assert.Equal(Mempool.DefaultDataRoomSize, m.BufferLength);
            Assert.Null(m.Validate());
        }
        finally
        {
            m.Free();
        }
    }

    [Fact]
    public void Alloc_resets_what_the_previous_user_left()
    {
        Mbuf m = pool.Alloc();
        nint p = m.Pointer;
        Assert.True(m.TryAppend(300, out _));
        m.Port = 1;
        m.OffloadFlags = MbufOffloadFlags.RxRssHash;
        m.TsoSegmentSize = 9000;
        m.Free();

        // With no cache the ring is FIFO: take every other object first to get the same one back.
        var others = new Mbuf[pool.Capacity - 1];
        Assert.Equal(others.Length, pool.AllocBulk(others));
        Mbuf again = pool.Alloc();
        Assert.Equal(p, again.Pointer);
        Assert.Equal(0u, again.PacketLength);
        Assert.Equal(0, again.DataLength);
        Assert.Equal(128, again.DataOffset);
        Assert.Equal(MbufHeader.PortInvalid, again.Port);
        Assert.Equal(MbufOffloadFlags.None, again.OffloadFlags);
        Assert.Equal(0, again.TsoSegmentSize);
        again.Free();
        Mbuf.FreeBulk(others);
    }

    [Fact]
    public void Extra_reference_keeps_the_mbuf_until_the_last_free()
    {
        Mbuf m = pool.Alloc();
        Assert.Equal(2, m.AddReferences(1));
        Assert.Equal(2, m.RefCount);
        Assert.Equal(1, pool.Audit().InUse);

        m.Free();
        Assert.Equal(1, m.RefCount);
        Assert.Equal(1, pool.Audit().InUse);

        m.Free();
        Assert.Equal(0, pool.Audit().InUse);
        Assert.Equal(1, m.RefCount); // a pool object rests with one reference
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Extra_references_through_FreeBulk()
    {
        var burst = new Mbuf[8];
        Assert.Equal(8, pool.AllocBulk(burst));
        foreach (Mbuf m in burst)
        {
            m.AddReferences(2);
        }

        Mbuf.FreeBulk(burst);
        Assert.Equal(8, pool.Audit().InUse);
        Mbuf.FreeBulk(burst);
        Assert.Equal(8, pool.Audit().InUse);
        Mbuf.FreeBulk(burst);
        Assert.Equal(0, pool.Audit().InUse);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Handles_compare_by_header_address()
    {
        Mbuf a = pool.Alloc();
        Mbuf b = pool.Alloc();
        try
        {
            Mbuf a2 = Mbuf.FromPointer(a.Pointer);
            Assert.True(a == a2);
            Assert.False(a != a2);
            Assert.True(a != b);
            Assert.True(a.Equals(a2));
            Assert.True(a.Equals((object)a2));
            Assert.False(a.Equals((object)b));
            Assert.Equal(a.GetHashCode(), a2.GetHashCode());
            Assert.Equal("mbuf(null)", default(Mbuf).ToString());
            Assert.Contains("len=0, segs=1, port=65535", a.ToString(), StringComparison.Ordinal);
            Assert.Equal(8, MemoryMarshal.AsBytes(new ReadOnlySpan<Mbuf>(in a)).Length);
        }
        finally
        {
            a.Free();
            b.Free();
        }
    }
}
