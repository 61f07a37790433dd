using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>Driver transmit queues (split and packed): what lands in shared memory, reclaiming, kicks, refusals.</summary>
public class FrontendTransmitTests
{
    private static readonly byte[] ZeroHeader = new byte[VirtioNetHeader.Size];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Transmit_puts_a_zero_header_then_exactly_the_packet_bytes_in_shared_memory(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, Mrg);
        byte[][] frames = [Frame(60, 1), Frame(1514, 2), Frame(1400, 3), Frame(200, 4), Frame(9000, 5)];
        Mbuf shared = Packet(bench.Pool, frames[3]);
        shared.AddReferences(1); // held twice: the header must not be pushed into its headroom
        Mbuf[] packets =
        [
            Packet(bench.Pool, frames[0]),
            Packet(bench.Pool, frames[1]),
            Chained(bench.Pool, frames[2], 500),   // 3 segments
            shared,
            Chained(bench.Pool, frames[4], 2000),  // jumbo in 5 segments
        ];

        Assert.Equal(packets.Length, bench.Queue.Transmit(packets));
        Assert.Equal(packets.Length, bench.Stats.Packets);
        Assert.Equal(frames.Sum(f => (long)f.Length), bench.Stats.Bytes);
        Assert.Equal(1UL, bench.TakeKicks()); // one kick per burst

        List<FrontendDeviceBuffer> buffers = bench.PopAll();
        Assert.Equal(packets.Length, buffers.Count);
        Assert.Equal([1, 1, 3, 2, 5], buffers.Select(b => b.Descs.Count));
        for (int i = 0; i < frames.Length; i++)
        {
            byte[] bytes = bench.Read(buffers[i]);
            Assert.Equal([.. ZeroHeader, .. frames[i]], bytes);
            Assert.All(buffers[i].Descs, d => Assert.True(bench.Memory.IsMapped(d.Addr, d.Len)));
        }

        // The shared packet's header is its own descriptor in the ring area, not in the packet's headroom.
        FrontendDeviceDesc header = buffers[3].Descs[0];
        Assert.Equal((uint)VirtioNetHeader.Size, header.Len);
        Assert.True(bench.Area.Region.Contains((nint)header.Addr, header.Len));
        Assert.Equal(frames[3], Bytes(shared));

        foreach (FrontendDeviceBuffer b in buffers)
        {
            bench.Use(b, 0);
        }

        Assert.Equal(0, bench.Queue.Transmit([])); // reclaims lazily
        Assert.Equal(0, bench.Queue.InFlight);
        Assert.Equal(1, shared.RefCount);
        shared.Free();
        AssertNoLeak(bench.Pool);
        Assert.Equal(0, bench.Stats.Faults);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_packet_without_headroom_gets_a_separate_header_descriptor(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, 0);
        byte[] frame = Frame(100, 9);
        Mbuf m = bench.Pool.Alloc();
        m.Header.DataOff = 0; // no headroom at all
        Assert.True(m.TryAppend(frame.Length, out Span<byte> tail));
        frame.CopyTo(tail);

        Assert.Equal(1, bench.Queue.Transmit([m]));
        FrontendDeviceBuffer buffer = Assert.Single(bench.PopAll());
        Assert.Equal(2, buffer.Descs.Count);
        Assert.Equal([.. ZeroHeader, .. frame], bench.Read(buffer));
        bench.Use(buffer, 0);
        bench.Queue.Transmit([]);
        AssertNoLeak(bench.Pool);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_full_ring_takes_what_fits_and_the_rest_stays_with_the_caller(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, 0, size: 64);
        Mbuf[] packets = [.. Enumerable.Range(0, 100).Select(i => Packet(bench.Pool, Frame(64, i)))];
        Assert.Equal(64, bench.Queue.Transmit(packets));
        Assert.Equal(0, bench.Queue.Transmit(packets.AsSpan(64)));
        Assert.Equal(64, bench.Queue.InFlight);

        List<FrontendDeviceBuffer> buffers = bench.PopAll();
        foreach (FrontendDeviceBuffer b in buffers.Take(30))
        {
            bench.Use(b, 0);
        }

        Assert.Equal(30, bench.Queue.Transmit(packets.AsSpan(64)));
        Mbuf.FreeBulk(packets.AsSpan(94)); // still ours
        bench.DisposeAndAssertNoLeak(); // in flight at dispose: freed and counted as dropped
        Assert.Equal(64, bench.Stats.Dropped);
    }

    [Fact]
    public void In_order_a_last_element_naming_the_last_buffer_completes_the_burst_without_reading_the_others()
    {
        // Split, in order: used->idx and the last element decide; the elements before it are not read, so garbage
        // there is neither a fault nor a reason to keep buffers. A last element naming anything else is judged
        // element by element (see FrontendHostileBackendTests).
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, InOrder, size: 32);
        FrontendSplitDevice split = bench.SplitDevice!;
        for (int round = 0; round < 10; round++)
        {
            Mbuf[] packets = [.. Enumerable.Range(0, 8).Select(i => Packet(bench.Pool, Frame(64 + i, round)))];
            Assert.Equal(8, bench.Queue.Transmit(packets));
            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            for (int i = 0; i < 7; i++)
            {
                split.WriteUsed((ushort)(split.UsedIdx + i), 0xFFFF, 0);
            }

            split.WriteUsed((ushort)(split.UsedIdx + 7), buffers[^1].Id, 0);
            split.UsedIdx += 8;
            split.PublishUsed(split.UsedIdx);

            Assert.Equal(0, bench.Queue.Transmit([]));
            Assert.Equal(0, bench.Queue.InFlight);
            AssertNoLeak(bench.Pool);
        }

        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Buffers_used_out_of_order_or_in_one_in_order_batch_are_all_reclaimed(bool packed, bool inOrder)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, inOrder ? InOrder : 0, size: 32);
        for (int round = 0; round < 20; round++)
        {
            Mbuf[] packets = [.. Enumerable.Range(0, 5).Select(i => i == 2 ? Chained(bench.Pool, Frame(900, i), 300) : Packet(bench.Pool, Frame(80, i)))];
            Assert.Equal(5, bench.Queue.Transmit(packets));
            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            if (inOrder)
            {
                // One used entry for the batch: the last buffer's id; split: used idx +5; packed: at the first slot, past all descriptors.
                if (packed)
                {
                    bench.PackedDevice!.Use(buffers[^1].Id, 0, buffers.Sum(b => b.Descs.Count));
                }
                else
                {
                    FrontendSplitDevice split = bench.SplitDevice!;
                    split.WriteUsed(split.UsedIdx, buffers[^1].Id, 0); // at the batch's first position (§2.7.10)
                    split.UsedIdx += 5;
                    split.PublishUsed(split.UsedIdx);
                }
            }
            else
            {
                buffers.Reverse();
                foreach (FrontendDeviceBuffer b in buffers)
                {
                    bench.Use(b, 0);
                }
            }

            Assert.Equal(0, bench.Queue.Transmit([]));
            Assert.Equal(0, bench.Queue.InFlight);
            AssertNoLeak(bench.Pool);
        }

        Assert.Equal(0, bench.Stats.Faults);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_backend_is_kicked_once_per_burst_unless_it_disabled_notifications(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, 0);
        Assert.Equal(2, bench.Queue.Transmit([Packet(bench.Pool, Frame(64, 1)), Packet(bench.Pool, Frame(64, 2))]));
        Assert.Equal(1UL, bench.TakeKicks());

        bench.SuppressKicks(true);
        Assert.Equal(1, bench.Queue.Transmit([Packet(bench.Pool, Frame(64, 3))]));
        Assert.Equal(0UL, bench.TakeKicks());
        Assert.Equal(1, bench.Stats.KicksSuppressed);

        bench.SuppressKicks(false);
        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.Equal(0UL, bench.TakeKicks()); // nothing posted, no kick
        Assert.Equal(1, bench.Queue.Transmit([Packet(bench.Pool, Frame(64, 4))]));
        Assert.Equal(1UL, bench.TakeKicks());
        Assert.Equal(2, bench.Stats.Kicks);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Packets_the_backend_could_not_read_are_taken_dropped_and_counted(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, 0, size: 8);
        using Mempool unshared = Pool(64);
        Mbuf outside = Packet(unshared, Frame(64, 1));             // memory the backend never got
        Mbuf tooLong = Chained(bench.Pool, Frame(1000, 2), 100);   // 10 segments: more descriptors than the ring
        Mbuf good = Packet(bench.Pool, Frame(64, 3));

        Assert.Equal(3, bench.Queue.Transmit([outside, tooLong, good]));
        Assert.Equal(2, bench.Stats.Dropped);
        Assert.Equal(2, bench.Stats.Faults);
        Assert.Equal(DriverQueueFault.TxTooManySegments, bench.Stats.LastFault);
        AssertNoLeak(unshared);
        FrontendDeviceBuffer only = Assert.Single(bench.PopAll());
        Assert.Equal([.. ZeroHeader, .. Frame(64, 3)], bench.Read(only));
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void A_transmit_queue_does_not_receive_and_a_stopped_queue_does_nothing()
    {
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0);
        Assert.Equal(0, bench.Queue.Receive(new Mbuf[4]));
        Assert.True(bench.Queue.Stop(TimeSpan.FromSeconds(1)));
        Mbuf m = Packet(bench.Pool, Frame(64, 1));
        Assert.Equal(0, bench.Queue.Transmit([m]));
        m.Free();
        Assert.Throws<InvalidOperationException>(() => { bench.Queue.Start(); bench.Queue.Reset(); });
        bench.DisposeAndAssertNoLeak();
    }
}
