using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>Driver receive queues (split and packed): buffers the device fills become the right mbufs, merged buffers become chains.</summary>
public class FrontendReceiveTests
{
    private const int BufferBytes = Mempool.DefaultDataRoomSize - MbufHeader.DefaultHeadroom + VirtioNetHeader.Size; // 2060

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Single_buffer_packets_arrive_without_the_header_and_the_ring_is_refilled(bool packed, bool mergeable)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, mergeable ? Mrg : 0, size: 64);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        Assert.Equal(64, posted.Count);
        Assert.All(posted, b => Assert.Equal((uint)BufferBytes, Assert.Single(b.Descs).Len));

        int[] lengths = [60, 1514, 2048, 64, 500];
        for (int i = 0; i < lengths.Length; i++)
        {
            uint used = bench.WriteRx(posted[i], Frame(lengths[i], i), numBuffers: 1);
            bench.Use(posted[i], used);
        }

        var packets = new Mbuf[16];
        int n = bench.Queue.Receive(packets);
        Assert.Equal(lengths.Length, n);
        for (int i = 0; i < n; i++)
        {
            Mbuf m = packets[i];
            Assert.Null(m.Validate());
            Assert.Equal(1, m.SegmentCount);
            Assert.Equal((uint)lengths[i], m.PacketLength);
            Assert.Equal(MbufHeader.DefaultHeadroom, m.DataOffset);
            Assert.Equal(7, m.Port);
            Assert.Equal(Frame(lengths[i], i), Bytes(m));
        }

        Assert.Equal(lengths.Length, bench.Stats.Packets);
        Assert.Equal(lengths.Sum(), bench.Stats.Bytes);
        Mbuf.FreeBulk(packets.AsSpan(0, n));

        // Refill waits until a quarter of the ring is free (DPDK's rx_free_thresh idea), then tops it up at the
        // start of the next burst (before harvesting, so freed slots get back the mbufs freed since).
        Assert.Equal(64 - lengths.Length, bench.Queue.InFlight);
        for (int i = lengths.Length; i < 16; i++)
        {
            bench.Use(posted[i], bench.WriteRx(posted[i], Frame(64, i), 1));
        }

        n = bench.Queue.Receive(packets);
        Assert.Equal(16 - lengths.Length, n);
        Mbuf.FreeBulk(packets.AsSpan(0, n));
        Assert.Equal(64 - 16, bench.Queue.InFlight);
        Assert.Equal(0, bench.Queue.Receive(packets));
        Assert.Equal(64, bench.Queue.InFlight);
        Assert.Equal(16, bench.PopAll().Count);
        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merged_buffers_become_one_mbuf_chain(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, Mrg, size: 32);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        byte[] small = Frame(100, 1);
        byte[] big = Frame(5000, 2);   // 2048 in the first buffer (after the header), 2060 + 892 in two more
        byte[] jumbo = Frame(9000, 3); // five buffers
        byte[] tail = Frame(60, 4);

        int next = 0;
        void Deliver(byte[] packet)
        {
            int first = Math.Min(packet.Length, BufferBytes - VirtioNetHeader.Size);
            var pieces = new List<(FrontendDeviceBuffer Buffer, uint Len)>();
            int count = 1 + (int)Math.Ceiling((packet.Length - first) / (double)BufferBytes);
            FrontendDeviceBuffer head = posted[next++];
            pieces.Add((head, bench.WriteRx(head, packet.AsSpan(0, first), (ushort)count)));
            for (int offset = first; offset < packet.Length; offset += BufferBytes)
            {
                FrontendDeviceBuffer b = posted[next++];
                pieces.Add((b, bench.WriteRaw(b, packet.AsSpan(offset, Math.Min(BufferBytes, packet.Length - offset)))));
            }

            Assert.Equal(count, pieces.Count);
            foreach ((FrontendDeviceBuffer b, uint len) in pieces)
            {
                bench.Use(b, len);
            }
        }

        Deliver(small);
        Deliver(big);
        Deliver(jumbo);
        Deliver(tail);

        var packets = new Mbuf[8];
        int n = bench.Queue.Receive(packets);
        Assert.Equal(4, n);
        byte[][] expected = [small, big, jumbo, tail];
        int[] segments = [1, 3, 5, 1];
        for (int i = 0; i < n; i++)
        {
            Assert.Null(packets[i].Validate());
            Assert.Equal(segments[i], packets[i].SegmentCount);
            Assert.Equal(expected[i], Bytes(packets[i]));
        }

        Assert.Equal(0, bench.Stats.Faults);
        Mbuf.FreeBulk(packets.AsSpan(0, n));
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_merged_packet_waits_until_all_its_buffers_are_used(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, Mrg, size: 16);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        byte[] packet = Frame(3000, 5);
        uint first = bench.WriteRx(posted[0], packet.AsSpan(0, 2048), numBuffers: 2);
        uint second = bench.WriteRaw(posted[1], packet.AsSpan(2048));
        bench.Use(posted[0], first);

        var packets = new Mbuf[4];
        Assert.Equal(0, bench.Queue.Receive(packets));
        bench.Use(posted[1], second);
        Assert.Equal(1, bench.Queue.Receive(packets));
        Assert.Equal(packet, Bytes(packets[0]));
        Assert.Equal(2, packets[0].SegmentCount);
        packets[0].Free();
        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Receive_stops_at_the_caller_s_span_and_keeps_the_rest(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, Mrg, size: 64);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        for (int i = 0; i < 10; i++)
        {
            bench.Use(posted[i], bench.WriteRx(posted[i], Frame(64, i), 1));
        }

        var packets = new Mbuf[4];
        var seen = new List<byte[]>();
        int n;
        while ((n = bench.Queue.Receive(packets)) > 0)
        {
            Assert.True(n <= 4);
            seen.AddRange(packets.Take(n).Select(Bytes));
            Mbuf.FreeBulk(packets.AsSpan(0, n));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => Frame(64, i)), seen);
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void An_empty_pool_is_counted_and_the_ring_refills_later()
    {
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Receive, 0, size: 64, poolSize: 40);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        Assert.Equal(40, posted.Count); // all the pool had
        Assert.True(bench.Stats.RxNoMbuf > 0);
        for (int i = 0; i < 20; i++)
        {
            bench.Use(posted[i], bench.WriteRx(posted[i], Frame(64, i), 1));
        }

        var packets = new Mbuf[32];
        Assert.Equal(20, bench.Queue.Receive(packets));
        Mbuf.FreeBulk(packets.AsSpan(0, 20));
        Assert.Equal(0, bench.Queue.Receive(packets));
        Assert.Equal(20, bench.PopAll().Count); // the freed mbufs were posted again
        bench.DisposeAndAssertNoLeak();
    }
}
