using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Regression tests for the one-descriptor fast paths of <see cref="SplitVhostQueue"/>. Receive
/// (<c>TryPlaceSingle</c>): a buffer posted again at the head it went through last time is only compared, not
/// written, when it already holds the header; whatever the guest did to those bytes in between, the header it reads
/// must be the right one. Transmit (<c>TryCopySingleTx</c>): a one-descriptor chain is copied byte-exact, and the
/// chains the fast path declines are still judged by the chain walker, faults and all.
/// </summary>
public sealed class SplitHeaderRewriteTests
{
    private const ulong V1 = SplitTxTests.V1;
    private const ulong Mrg = SplitTxTests.Mrg;
    private const ulong Unmapped = 0xDEAD_0000_0000;
    private const int BufferBytes = 2048;

    /// <summary>Header layouts: legacy 10 bytes; 12 bytes with VERSION_1, MRG_RXBUF or both.</summary>
    public static TheoryData<ulong> Features() => new() { 0UL, V1, V1 | Mrg, Mrg };

    public static TheoryData<ulong> MergeableFeatures() => new() { V1 | Mrg, Mrg };

    /// <summary>Single transmit descriptors the fast path must decline, and the fault the walker then finds.</summary>
    public static TheoryData<string, ulong, VhostQueueFault> DeclinedTxCases() => new()
    {
        { "shorter-than-header", V1, VhostQueueFault.HeaderTooShort },
        { "one-byte-short-of-the-header", V1, VhostQueueFault.HeaderTooShort },
        { "legacy-header-only", 0UL, VhostQueueFault.HeaderTooShort },
        { "zero-length-unmapped", V1, VhostQueueFault.HeaderTooShort },
        { "device-writable", V1, VhostQueueFault.WrongDirection },
        { "device-writable-legacy", 0UL, VhostQueueFault.WrongDirection },
        { "device-writable-unmapped", V1, VhostQueueFault.WrongDirection },
        { "unmapped-one-byte-past-the-header", V1, VhostQueueFault.AddressNotMapped },
        { "crossing-region-end-into-a-hole", V1, VhostQueueFault.AddressNotMapped },
    };

    /// <summary>The header a receiving guest must find: all zero, num_buffers = 1 where the header has it (12 bytes).</summary>
    private static byte[] ExpectedHeader(int headerSize)
    {
        var header = new byte[headerSize];
        if (headerSize == VirtioNetHeader.Size)
        {
            header[10] = 1; // num_buffers, little-endian
        }

        return header;
    }

    /// <summary>
    /// Makes <paramref name="gpa"/> available again through descriptor <paramref name="head"/> as one device-writable
    /// descriptor, as a driver re-posting a buffer it got back. The head is tracked without descriptors, so
    /// <see cref="SplitRingDriver.PopUsed"/> never hands it to <see cref="SplitRingDriver.PostRx"/>.
    /// </summary>
    private static void PostAt(SplitRingDriver driver, ushort head, ulong gpa, int length = BufferBytes)
    {
        driver.WriteDesc(head, gpa, (uint)length, VirtqDescFlags.Write);
        driver.Track(head, [], (gpa, length));
        driver.PushAvail(head);
    }

    /// <summary>Enqueues <paramref name="frame"/> and checks it went into <paramref name="gpa"/> through <paramref name="head"/>: used length, header, frame.</summary>
    private static void EnqueueAndCheck(SplitRingDriver driver, SplitVhostQueue queue, ushort head, ulong gpa, byte[] frame)
    {
        int headerSize = driver.HeaderSize;
        ushort used = driver.UsedIdx;
        long packets = queue.Stats.Packets;
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, frame));
        Assert.Equal((ushort)(used + 1), driver.UsedIdx);
        Assert.Equal(((uint)head, (uint)(headerSize + frame.Length)), driver.UsedElem(used));
        Assert.Equal(ExpectedHeader(headerSize), driver.At(gpa, headerSize).ToArray());
        Assert.Equal(frame, driver.At(gpa + (ulong)headerSize, frame.Length).ToArray());
        Assert.Equal(packets + 1, queue.Stats.Packets);
        Assert.Single(driver.PopUsed());
    }

    // ---- receive: the header compare-before-write ----

    [Theory]
    [MemberData(nameof(Features))]
    public void A_scribbled_header_in_a_buffer_posted_again_at_the_same_head_is_written_again(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        int headerSize = driver.HeaderSize;
        ushort head = driver.AllocDesc();
        ulong buffer = driver.AllocBuffer(BufferBytes);
        driver.At(buffer, BufferBytes).Fill(0x55); // a buffer that held something else before

        PostAt(driver, head, buffer);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(100, 1));

        // The whole header overwritten by the guest, then each byte alone (a compare of only part of the header
        // would miss some of them), each time posted again at the same head with the same address.
        driver.At(buffer, headerSize).Fill(0xAA);
        PostAt(driver, head, buffer);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(300, 2));
        for (int at = 0; at < headerSize; at++)
        {
            Span<byte> b = driver.At(buffer + (ulong)at, 1);
            b[0] ^= 0x5A;
            Assert.NotEqual(ExpectedHeader(headerSize), driver.At(buffer, headerSize).ToArray());
            PostAt(driver, head, buffer);
            EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(60 + (at * 37), 10 + at));
        }

        Assert.Equal(2 + headerSize, queue.Stats.Packets);
        Assert.Equal(0, queue.Stats.Faults);
        Assert.Equal(0, queue.Stats.Dropped);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(Features))]
    public void A_header_left_intact_in_a_buffer_posted_again_at_the_same_head_still_reads_right(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort head = driver.AllocDesc();
        ulong buffer = driver.AllocBuffer(BufferBytes);
        driver.At(buffer, BufferBytes).Fill(0x55);

        // Long, short, long again: the frame after the header is always rewritten, whatever its length.
        int[] lengths = [1500, 60, 2000, 61, 1, 2048 - driver.HeaderSize, 14];
        for (int i = 0; i < lengths.Length; i++)
        {
            PostAt(driver, head, buffer);
            EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(lengths[i], 100 + i));
        }

        Assert.Equal(lengths.Length, queue.Stats.Packets);
        Assert.Equal(lengths.Sum(), queue.Stats.Bytes);
        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(MergeableFeatures))]
    public void A_header_a_merged_packet_left_behind_is_rewritten_for_the_next_single_buffer_packet(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort head = driver.AllocDesc();
        ulong buffer = driver.AllocBuffer(1536);

        PostAt(driver, head, buffer, 1536);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(100, 1));

        // Same buffer, same head, but a packet that needs three buffers: the slow path writes num_buffers = 3 there.
        PostAt(driver, head, buffer, 1536);
        driver.PostRx(1536);
        driver.PostRx(1536);
        byte[] big = SplitPackets.Frame(4000, 2); // 4012 bytes: 1536 + 1536 + 940
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, big));
        var used = new Queue<(uint Id, uint Len)>();
        for (ushort i = driver.LastUsed; i != driver.UsedIdx; i++)
        {
            used.Enqueue(driver.UsedElem(i));
        }

        Assert.Equal(3, used.Count);
        Assert.Equal(head, (ushort)used.Peek().Id);
        (VirtioNetHeader header, byte[] got) = SplitRxTests.Receive(driver, used);
        Assert.Equal(3, header.NumBuffers);
        Assert.Equal(big, got);
        Assert.Equal(3, driver.PopUsed().Count);

        // Back at the same head with the same address: the header still says 3 and must say 1 again.
        PostAt(driver, head, buffer, 1536);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(200, 3));
        Assert.Equal(3, queue.Stats.Packets);
        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(Features))]
    public void Buffers_moving_between_heads_always_get_the_right_header(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        int headerSize = driver.HeaderSize;
        ushort[] heads = [driver.AllocDesc(), driver.AllocDesc(), driver.AllocDesc()];
        ulong[] buffers = [driver.AllocBuffer(BufferBytes), driver.AllocBuffer(BufferBytes), driver.AllocBuffer(BufferBytes)];
        foreach (ulong b in buffers)
        {
            driver.At(b, BufferBytes).Fill(0x55);
        }

        // A fixed pseudo-random walk of (head, buffer) pairs, the guest scribbling on some headers in between.
        var random = new Random(17);
        for (int round = 0; round < 200; round++)
        {
            ushort head = heads[random.Next(heads.Length)];
            ulong buffer = buffers[random.Next(buffers.Length)];
            switch (random.Next(4))
            {
                case 0:
                    driver.At(buffer, headerSize).Fill((byte)random.Next(1, 256));
                    break;
                case 1:
                    driver.At(buffer + (ulong)random.Next(headerSize), 1)[0] ^= 0xFF;
                    break;
                default:
                    break; // left as the last packet through it wrote it
            }

            PostAt(driver, head, buffer);
            EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(random.Next(1, BufferBytes - headerSize + 1), round));
        }

        Assert.Equal(200, queue.Stats.Packets);
        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void A_header_rewritten_in_a_buffer_posted_again_is_marked_in_the_dirty_log()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg, log: true);
        SplitVhostQueue queue = driver.CreateQueue();
        ulong page = DirtyLog.PageSize;

        // The header is the last 12 bytes of one page, the frame starts on the next one.
        ulong buffer = driver.AllocBuffer(3 * 4096, 4096) + page - VirtioNetHeader.Size;
        ulong headerPage = buffer / page;
        ushort head = driver.AllocDesc();
        PostAt(driver, head, buffer);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(500, 1));

        driver.At(buffer, VirtioNetHeader.Size).Fill(0xAA);
        Array.Clear(driver.LogBitmap!);
        PostAt(driver, head, buffer);
        EnqueueAndCheck(driver, queue, head, buffer, SplitPackets.Frame(500, 2));
        Assert.True((driver.LogBitmap![(int)(headerPage / 8)] & (1 << (int)(headerPage % 8))) != 0, "the page the header was rewritten in is not marked dirty");
        Assert.True((driver.LogBitmap[(int)((headerPage + 1) / 8)] & (1 << (int)((headerPage + 1) % 8))) != 0, "the page the frame went to is not marked dirty");
    }

    [Theory]
    [MemberData(nameof(Features))]
    public void A_buffer_exactly_as_long_as_header_and_frame_takes_the_packet_and_one_byte_less_does_not(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        int headerSize = driver.HeaderSize;
        byte[] frame = SplitPackets.Frame(700, 4);
        ushort head = driver.AllocDesc();
        ulong buffer = driver.AllocBuffer(BufferBytes);
        PostAt(driver, head, buffer, headerSize + frame.Length);
        EnqueueAndCheck(driver, queue, head, buffer, frame);

        // One byte short: not a fast-path packet. Without merged buffers it is dropped and the head stays; with them
        // it goes on into the next buffer, with num_buffers = 2.
        PostAt(driver, head, buffer, headerSize + frame.Length - 1);
        ushort next = driver.PostRx(BufferBytes);
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, frame));
        var used = new Queue<(uint Id, uint Len)>();
        for (ushort i = driver.LastUsed; i != driver.UsedIdx; i++)
        {
            used.Enqueue(driver.UsedElem(i));
        }

        if (VirtioFeatures.IsSet(features, VirtioFeatures.NetMrgRxbuf))
        {
            (uint, uint)[] expectedUsed = [(head, (uint)(headerSize + frame.Length - 1)), (next, 1u)];
            Assert.Equal(expectedUsed, used.ToArray());
            (VirtioNetHeader header, byte[] got) = SplitRxTests.Receive(driver, used);
            Assert.Equal(2, header.NumBuffers);
            Assert.Equal(frame, got);
            Assert.Equal(0, queue.Stats.Dropped);
        }
        else
        {
            Assert.Empty(used);
            Assert.Equal(1, queue.Stats.Dropped);
            Assert.Equal(1u, queue.GetBase()); // the short head is still first in the ring
        }

        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    // ---- transmit: the one-descriptor copy ----

    [Theory]
    [InlineData(0UL)]
    [InlineData(V1)]
    [InlineData(V1 | Mrg)]
    public void A_one_descriptor_transmit_chain_is_copied_byte_exact_up_to_the_mbuf_tailroom_and_beyond(ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        int headerSize = driver.HeaderSize;
        Mbuf probe = driver.Pool.Alloc();
        int tailroom = probe.Tailroom;
        probe.Free();

        // A header full of non-zero bytes (no offload is negotiated, so none of it may change the packet).
        var header = new byte[headerSize];
        header.AsSpan().Fill(0xA5);
        int[] lengths = [1, 2, 14, 60, 1514, tailroom - 1, tailroom, tailroom + 1, (2 * tailroom) + 1];
        for (int i = 0; i < lengths.Length; i++)
        {
            byte[] frame = SplitPackets.Frame(lengths[i], 200 + i);
            ushort head = driver.PostTx([.. header, .. frame], int.MaxValue);
            Assert.Single(driver.Buffers(head));
            var packets = new Mbuf[2];
            Assert.Equal(1, queue.Dequeue(driver.Pool, packets));
            Mbuf m = packets[0];
            Assert.Equal(frame, LabFrames.Bytes(m));
            Assert.Equal((lengths[i] + tailroom - 1) / tailroom, m.SegmentCount);
            Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
            m.Free();
            Assert.Equal([(head, 0u)], driver.PopUsed());
        }

        Assert.Equal(lengths.Length, queue.Stats.Packets);
        Assert.Equal(lengths.Sum(), queue.Stats.Bytes);
        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(DeclinedTxCases))]
    public void A_single_transmit_descriptor_the_fast_path_declines_is_still_a_fault_that_costs_only_itself(string kind, ulong features, VhostQueueFault expected)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        int headerSize = driver.HeaderSize;
        byte[] before = SplitPackets.Frame(300, 1), after = SplitPackets.Frame(1500, 2);
        ushort h0 = driver.PostTx(SplitPackets.WithHeader(headerSize, before), int.MaxValue);

        ushort bad = driver.AllocDesc();
        ulong buffer = driver.AllocBuffer(4096);
        SplitPackets.WithHeader(headerSize, SplitPackets.Frame(4096 - headerSize, 3)).CopyTo(driver.At(buffer, 4096));
        switch (kind)
        {
            case "shorter-than-header":
                driver.WriteDesc(bad, buffer, 4, VirtqDescFlags.None);
                break;
            case "one-byte-short-of-the-header":
                driver.WriteDesc(bad, buffer, (uint)headerSize - 1, VirtqDescFlags.None);
                break;
            case "legacy-header-only":
                Assert.Equal(VirtioNetHeader.LegacySize, headerSize);
                driver.WriteDesc(bad, buffer, (uint)headerSize, VirtqDescFlags.None);
                break;
            case "zero-length-unmapped":
                driver.WriteDesc(bad, Unmapped, 0, VirtqDescFlags.None);
                break;
            case "device-writable":
            case "device-writable-legacy":
                driver.WriteDesc(bad, buffer, 200, VirtqDescFlags.Write);
                break;
            case "device-writable-unmapped":
                driver.WriteDesc(bad, Unmapped, 200, VirtqDescFlags.Write);
                break;
            case "unmapped-one-byte-past-the-header":
                driver.WriteDesc(bad, Unmapped, (uint)headerSize + 1, VirtqDescFlags.None);
                break;
            case "crossing-region-end-into-a-hole":
                driver.WriteDesc(bad, SplitRingDriver.RegionBGpa + SplitRingDriver.RegionBSize - 100, 200, VirtqDescFlags.None);
                break;
            default:
                throw new ArgumentException(kind);
        }

        driver.Track(bad, [bad]);
        driver.PushAvail(bad);
        ushort h2 = driver.PostTx(SplitPackets.WithHeader(headerSize, after), int.MaxValue);

        List<byte[]> got = SplitTxTests.DequeueBytes(queue, driver.Pool);

        Assert.Equal([before, after], got);
        Assert.Equal(1, queue.Stats.Faults);
        Assert.Equal(expected, queue.Stats.LastFault);
        Assert.Equal((long)bad, queue.Stats.LastFaultIndex);
        Assert.Equal(2, queue.Stats.Packets);
        Assert.Equal(before.Length + after.Length, queue.Stats.Bytes);
        Assert.False(queue.IsBroken);
        Assert.Equal([(h0, 0u), (bad, 0u), (h2, 0u)], driver.PopUsed());
        Assert.Equal(3u, queue.GetBase());
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void A_single_transmit_descriptor_with_a_packed_only_flag_is_declined_by_the_fast_path_and_still_delivered()
    {
        // Flags other than NEXT, WRITE and INDIRECT mean nothing to a split ring: the walker ignores them, so the
        // packet must come out exactly as it would through the fast path (which only takes flags == 0).
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] bytes = SplitPackets.WithHeader(12, SplitPackets.Frame(700, 5));
        ulong buffer = driver.AllocBuffer(bytes.Length);
        bytes.CopyTo(driver.At(buffer, bytes.Length));
        ushort head = driver.AllocDesc();
        driver.WriteDesc(head, buffer, (uint)bytes.Length, VirtqDescFlags.Avail);
        driver.Track(head, [head]);
        driver.PushAvail(head);

        Assert.Equal(bytes.AsSpan(12).ToArray(), Assert.Single(SplitTxTests.DequeueBytes(queue, driver.Pool)));
        Assert.Equal([(head, 0u)], driver.PopUsed());
        Assert.Equal(0, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }
}
