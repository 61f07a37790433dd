using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Host → guest (<see cref="SplitVhostQueue.Enqueue"/>) with a well-behaved driver: one chain per packet, merged buffers, indirect tables, too-long packets, no buffers.</summary>
public class SplitRxTests
{
    private const ulong V1 = SplitTxTests.V1;
    private const ulong Mrg = SplitTxTests.Mrg;
    private const ulong Indirect = SplitTxTests.Indirect;

    public static TheoryData<int, ulong> SizesAndFeatures() => SplitTxTests.SizesAndFeatures();

    /// <summary>Enqueues <paramref name="frames"/> as mbufs (freed afterwards, as the caller must); returns what Enqueue returned.</summary>
    internal static int Enqueue(SplitRingDriver driver, SplitVhostQueue queue, params byte[][] frames)
    {
        var packets = new Mbuf[frames.Length];
        for (int i = 0; i < frames.Length; i++)
        {
            packets[i] = LabFrames.ToMbuf(driver.Pool, frames[i]);
        }

        int n = queue.Enqueue(packets);
        Mbuf.FreeBulk(packets);
        return n;
    }

    /// <summary>Reads one received packet (header + frame) from the used elements, following num_buffers with MRG_RXBUF.</summary>
    internal static (VirtioNetHeader Header, byte[] Frame) Receive(SplitRingDriver driver, Queue<(uint Id, uint Len)> used)
    {
        (uint id, uint len) = used.Dequeue();
        byte[] first = driver.ReadChain((ushort)id, (int)len);
        VirtioNetHeader header = SplitPackets.ReadHeader(first, driver.HeaderSize);
        var bytes = new List<byte>(first[driver.HeaderSize..]);
        bool mergeable = (driver.Features & Mrg) != 0;
        for (int i = 1; mergeable && i < header.NumBuffers; i++)
        {
            (id, len) = used.Dequeue();
            bytes.AddRange(driver.ReadChain((ushort)id, (int)len));
        }

        return (header, bytes.ToArray());
    }

    private static Queue<(uint, uint)> Used(SplitRingDriver driver)
    {
        // ReadChain needs the chain records, which PopUsed drops: read the used ring without popping first.
        var list = new Queue<(uint, uint)>();
        for (ushort i = driver.LastUsed; i != driver.UsedIdx; i++)
        {
            list.Enqueue(driver.UsedElem(i));
        }

        return list;
    }

    [Theory]
    [MemberData(nameof(SizesAndFeatures))]
    public void Round_trip_into_one_chain_or_merged_buffers(int size, ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        bool mergeable = (features & Mrg) != 0;
        for (int i = 0; i < 16; i++)
        {
            // Linux: mergeable buffers of ~1.5 KiB; otherwise big chains (header, then page-sized pieces).
            if (mergeable)
            {
                driver.PostRx(1536);
            }
            else
            {
                driver.PostRx(driver.HeaderSize, 4096, 4096, 4096);
            }
        }

        byte[] frame = SplitPackets.Frame(size, size);
        Assert.Equal(1, Enqueue(driver, queue, frame));

        Queue<(uint, uint)> used = Used(driver);
        int expectedHeads = mergeable ? (int)Math.Ceiling((size + driver.HeaderSize) / 1536.0) : 1;
        Assert.Equal(expectedHeads, used.Count);
        (VirtioNetHeader header, byte[] got) = Receive(driver, used);
        Assert.Equal(frame, got);
        Assert.Equal(0, header.Flags);
        Assert.Equal(0, header.GsoType);
        if (driver.HeaderSize == 12)
        {
            Assert.Equal(expectedHeads, header.NumBuffers);
        }

        Assert.Equal(1, queue.Stats.Packets);
        Assert.Equal(size, queue.Stats.Bytes);
        Assert.Equal(0, queue.Stats.Dropped);
        Assert.Equal(0, queue.Stats.Faults);
        Assert.Equal((uint)expectedHeads, queue.GetBase());
        driver.PopUsed();
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void Used_length_counts_the_header_and_the_bytes_written()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort head = driver.PostRx(2048);
        Assert.Equal(1, Enqueue(driver, queue, SplitPackets.Frame(100, 1)));
        Assert.Equal([(head, 112u)], driver.PopUsed());
    }

    [Theory]
    [InlineData(new[] { 4, 4, 4, 2000 })] // the header over three descriptors
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2000 })]
    [InlineData(new[] { 11, 2000 })]      // num_buffers' two bytes in different descriptors
    [InlineData(new[] { 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100 })]
    public void Header_and_packet_spread_over_many_descriptors(int[] sizes)
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort head = driver.PostRx(sizes);
        byte[] frame = SplitPackets.Frame(1400, 2);
        Assert.Equal(1, Enqueue(driver, queue, frame));
        (VirtioNetHeader header, byte[] got) = Receive(driver, Used(driver));
        Assert.Equal(frame, got);
        Assert.Equal(1, header.NumBuffers);
        Assert.Equal([(head, 1412u)], driver.PopUsed());
    }

    [Fact]
    public void Merged_buffers_with_the_header_split_write_num_buffers_in_both_places()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg);
        SplitVhostQueue queue = driver.CreateQueue();
        driver.PostRx(11, 500); // num_buffers low byte in the first descriptor, high byte in the second
        for (int i = 0; i < 10; i++)
        {
            driver.PostRx(600);
        }

        byte[] frame = SplitPackets.Frame(3000, 3);
        Assert.Equal(1, Enqueue(driver, queue, frame));
        Queue<(uint, uint)> used = Used(driver);
        Assert.Equal(6, used.Count); // 511 + 5 × 600 ≥ 3012
        (VirtioNetHeader header, byte[] got) = Receive(driver, used);
        Assert.Equal(6, header.NumBuffers);
        Assert.Equal(frame, got);
    }

    [Theory]
    [InlineData(V1)]
    [InlineData(V1 | Mrg)]
    public void Indirect_receive_chains(ulong features)
    {
        using var driver = new SplitRingDriver(256, features | Indirect);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 4; i++)
        {
            driver.PostRxIndirect(12, 1000, 1000, 1000);
        }

        byte[] frame = SplitPackets.Frame(2500, 4);
        Assert.Equal(1, Enqueue(driver, queue, frame));
        (VirtioNetHeader header, byte[] got) = Receive(driver, Used(driver));
        Assert.Equal(frame, got);
        Assert.Equal(1, header.NumBuffers);
        Assert.Equal(0, queue.Stats.Faults);
    }

    [Fact]
    public void A_burst_fills_buffers_in_order_and_stops_when_they_run_out()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 5; i++)
        {
            driver.PostRx(2048);
        }

        byte[][] frames = Enumerable.Range(0, 8).Select(i => SplitPackets.Frame(100 + i, i)).ToArray();
        Assert.Equal(5, Enqueue(driver, queue, frames));
        Assert.Equal(5, queue.Stats.Packets);
        Assert.Equal(3, queue.Stats.Dropped); // every packet not delivered is counted: Packets + Dropped = offered
        Queue<(uint, uint)> used = Used(driver);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(frames[i], Receive(driver, used).Frame);
        }

        Assert.Equal(0, Enqueue(driver, queue, frames[0]));
        Assert.Equal(4, queue.Stats.Dropped);
    }

    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 52)] // the frame (after the 12-byte header) starts on a cache line
    [InlineData(64, 21)]
    [InlineData(31, 0)]
    [InlineData(8, 52)]
    public void Frames_arrive_whole_whether_the_guest_ring_is_full_or_nearly_empty(int posted, int bufferOffset)
    {
        // At least half the ring posted: frames go in with streaming stores; fewer: ordinary ones. Same bytes either way.
        using var driver = new SplitRingDriver(64, V1) { BufferOffset = bufferOffset };
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < posted; i++)
        {
            driver.PostRx(2048);
        }

        int[] sizes = [60, 64, 65, 116, 127, 128, 129, 200, 1000, 1514, 2036];
        byte[][] frames = sizes.Select((size, i) => SplitPackets.Frame(size, i)).ToArray();
        int delivered = Math.Min(posted, frames.Length);

        Assert.Equal(delivered, Enqueue(driver, queue, frames));

        Queue<(uint, uint)> used = Used(driver);
        for (int i = 0; i < delivered; i++)
        {
            (VirtioNetHeader header, byte[] frame) = Receive(driver, used);
            Assert.Equal(frames[i], frame);
            Assert.Equal(1, header.NumBuffers);
        }

        Assert.Equal(delivered, queue.Stats.Packets);
        Assert.Equal(0, queue.Stats.Faults);
        // Streaming stores only where the frame covers a whole cache line of the buffer (buffers start 64-aligned + offset).
        int head = (64 - ((bufferOffset + driver.HeaderSize) % 64)) % 64;
        int withWholeLine = frames.Take(delivered).Count(f => f.Length - head >= 64);
        bool streaming = posted >= 32 && System.Runtime.Intrinsics.X86.Avx.IsSupported;
        Assert.Equal(streaming ? withWholeLine : 0, queue.Stats.StreamedPackets);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(20)]
    public void Jumbo_frames_over_merged_buffers_arrive_whole_whether_the_ring_is_full_or_not(int posted)
    {
        using var driver = new SplitRingDriver(64, V1 | Mrg) { BufferOffset = 8 };
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < posted; i++)
        {
            driver.PostRx(1536);
        }

        byte[][] frames = [SplitPackets.Frame(9000, 1), SplitPackets.Frame(3000, 2)]; // 6 and 2 buffers
        Assert.Equal(2, Enqueue(driver, queue, frames));

        Queue<(uint, uint)> used = Used(driver);
        (VirtioNetHeader first, byte[] jumbo) = Receive(driver, used);
        Assert.Equal(6, first.NumBuffers);
        Assert.Equal(frames[0], jumbo);
        (VirtioNetHeader second, byte[] next) = Receive(driver, used);
        Assert.Equal(2, second.NumBuffers);
        Assert.Equal(frames[1], next);
        bool streaming = posted >= 32 && System.Runtime.Intrinsics.X86.Avx.IsSupported;
        Assert.Equal(streaming ? 2 : 0, queue.Stats.StreamedPackets);
    }

    [Fact]
    public void Without_merged_buffers_a_packet_longer_than_the_chain_is_dropped_and_the_head_kept()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort head = driver.PostRx(1000);
        byte[] big = SplitPackets.Frame(2000, 1), small = SplitPackets.Frame(200, 2);

        Assert.Equal(2, Enqueue(driver, queue, big, small)); // both handled: the first dropped, the second delivered
        Assert.Equal(1, queue.Stats.Packets);
        Assert.Equal(1, queue.Stats.Dropped);
        Assert.Equal(0, queue.Stats.Faults);
        Assert.Equal(1u, queue.GetBase());
        (VirtioNetHeader _, byte[] got) = Receive(driver, Used(driver));
        Assert.Equal(small, got);
        Assert.Equal([(head, 212u)], driver.PopUsed());
    }

    [Fact]
    public void Merged_buffers_that_run_out_mid_packet_consume_nothing()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort h1 = driver.PostRx(1536), h2 = driver.PostRx(1536);
        byte[] frame = SplitPackets.Frame(9000, 5);

        Assert.Equal(0, Enqueue(driver, queue, frame));
        Assert.Equal(0u, queue.GetBase());
        Assert.Equal(0, driver.UsedIdx);
        Assert.Equal(1, queue.Stats.Dropped);

        for (int i = 0; i < 4; i++)
        {
            driver.PostRx(1536);
        }

        Assert.Equal(1, Enqueue(driver, queue, frame));
        Queue<(uint Id, uint Len)> used = Used(driver);
        Assert.Equal(h1, used.Peek().Id);
        Assert.Equal(h2, used.ElementAt(1).Id);
        (VirtioNetHeader header, byte[] got) = Receive(driver, used);
        Assert.Equal(6, header.NumBuffers);
        Assert.Equal(frame, got);
    }

    [Fact]
    public void Empty_ring_delivers_nothing_and_drops_everything()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        Assert.Equal(0, Enqueue(driver, queue, SplitPackets.Frame(64, 1), SplitPackets.Frame(64, 2)));
        Assert.Equal(2, queue.Stats.Dropped);
        Assert.Equal(0, driver.UsedIdx);
        Assert.Equal(0, queue.Enqueue([]));
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void Enqueue_keeps_no_reference_to_the_packets()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 64; i++)
        {
            driver.PostRx(1536);
        }

        byte[][] frames = Enumerable.Range(0, 10).Select(i => SplitPackets.Frame(64 + (i * 900), i)).ToArray();
        Assert.Equal(10, Enqueue(driver, queue, frames));
        SplitTxTests.AssertNoLeak(driver);
        Queue<(uint, uint)> used = Used(driver);
        foreach (byte[] f in frames)
        {
            Assert.Equal(f, Receive(driver, used).Frame);
        }
    }
}
