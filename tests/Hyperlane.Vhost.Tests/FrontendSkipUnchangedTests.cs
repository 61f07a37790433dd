using System.Buffers.Binary;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Regression tests for the split driver queue's skip-what-is-unchanged optimisations: the FIFO free list, descriptors
/// and avail entries written only when the private copy says they changed (copies that must be forgotten when
/// <see cref="IVirtioDriverQueue.Reset"/> clears the rings), the transmit header read before it is written (only while
/// recent pushes found it zero), and receive refilling before harvesting. Each test checks what the device reads and
/// what the application gets back, so a write wrongly skipped shows up as wrong bytes or a wrong descriptor.
/// </summary>
public sealed class FrontendSkipUnchangedTests
{
    private const int HeaderSize = VirtioNetHeader.Size;
    private const int BufferBytes = Mempool.DefaultDataRoomSize - MbufHeader.DefaultHeadroom + HeaderSize; // 2060
    private static readonly byte[] ZeroHeader = new byte[HeaderSize];

    /// <summary>Sets the <see cref="HeaderSize"/> bytes of headroom just before the data of <paramref name="m"/>, where a pushed header goes.</summary>
    private static void SetHeadroom(Mbuf m, ReadOnlySpan<byte> bytes)
    {
        Assert.True(m.TryPrepend(HeaderSize, out Span<byte> headroom));
        bytes.CopyTo(headroom);
        Assert.True(m.TryAdj(HeaderSize));
    }

    /// <summary>
    /// The header the device reads for a packet pushed over <paramref name="headroom"/>: zero, but num_buffers (bytes
    /// 10 and 11, unused on transmit) left as the headroom had it, as DPDK's virtio PMD leaves it.
    /// </summary>
    private static byte[] PushedHeader(ReadOnlySpan<byte> headroom)
    {
        var header = new byte[HeaderSize];
        headroom[(HeaderSize - 2)..].CopyTo(header.AsSpan(HeaderSize - 2));
        return header;
    }

    private static byte[] Garbage(int seed)
    {
        var bytes = new byte[HeaderSize];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(0xA0 + seed + i);
            if (bytes[i] == 0)
            {
                bytes[i] = 1;
            }
        }

        return bytes;
    }

    /// <summary>A frame of <paramref name="length"/> bytes that starts with <paramref name="serial"/>, so no two frames of a test are equal.</summary>
    private static byte[] NumberedFrame(int length, int serial)
    {
        byte[] frame = Frame(length, serial);
        BinaryPrimitives.WriteInt32LittleEndian(frame, serial);
        return frame;
    }

    /// <summary>
    /// Transmits one single-segment packet whose header the queue pushes into its headroom, and checks what the
    /// device reads: one descriptor over [headroom - 12, end of data), not device-writable, holding a zero header and
    /// exactly the frame (num_buffers as the headroom had it). Completes it; the next burst reclaims it.
    /// </summary>
    private static void SendPushed(FrontendQueueBench bench, byte[] frame, ReadOnlySpan<byte> headroom)
    {
        Mbuf m = Packet(bench.Pool, frame);
        SetHeadroom(m, headroom);
        ulong data = (ulong)(m.BufferAddress + m.DataOffset);
        Assert.Equal(1, bench.Queue.Transmit([m]));

        FrontendDeviceBuffer buffer = Assert.Single(bench.PopAll());
        FrontendDeviceDesc d = Assert.Single(buffer.Descs);
        Assert.Equal(new FrontendDeviceDesc(data - HeaderSize, (uint)(HeaderSize + frame.Length), VirtqDescFlags.None), d);
        Assert.Equal([.. PushedHeader(headroom), .. frame], bench.Read(buffer));
        bench.Use(buffer, 0);
    }

    // ---- transmit: the header read before it is written ----

    [Fact]
    public void Transmit_garbage_in_the_headroom_after_a_long_run_of_zero_headers_is_still_sent_as_a_zero_header_but_num_buffers()
    {
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 256);

        // 100 packets whose headroom already holds zeros: the queue learns to read the header before writing it.
        int serial = 0;
        for (int i = 0; i < 100; i++)
        {
            SendPushed(bench, NumberedFrame(60 + i, serial++), ZeroHeader);
        }

        // Now garbage: first all twelve bytes, then each byte alone (a check of only part of the header misses some),
        // with clean packets in between so the queue keeps checking rather than falling back to blind writes.
        SendPushed(bench, NumberedFrame(200, serial++), Garbage(0));
        for (int at = 0; at < HeaderSize; at++)
        {
            for (int k = 0; k < 3; k++)
            {
                SendPushed(bench, NumberedFrame(64, serial++), ZeroHeader);
            }

            byte[] headroom = new byte[HeaderSize];
            headroom[at] = (byte)(0x11 * (at + 1));
            SendPushed(bench, NumberedFrame(300 + at, serial++), headroom);
        }

        // A run of garbage: whatever the queue decides about checking, every header goes out zero (but num_buffers).
        for (int i = 0; i < 40; i++)
        {
            SendPushed(bench, NumberedFrame(100, serial++), Garbage(i));
        }

        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.Equal(0, bench.Queue.InFlight);
        Assert.Equal(serial, bench.Stats.Packets);
        Assert.Equal(0, bench.Stats.Faults);
        AssertNoLeak(bench.Pool);
    }

    [Fact]
    public void Transmit_a_packet_outside_the_memory_table_among_common_ones_is_dropped_alone_and_the_rest_go_in_order()
    {
        // The common packets take the fast path; the foreign one (its pool is not in the table) and the chained one
        // leave it for the general path, which drops the first, posts the second, and hands back to the fast path.
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 64);
        using Mempool foreign = Pool(16);
        byte[][] frames = [.. Enumerable.Range(0, 6).Select(i => NumberedFrame(80 + i, i))];
        Mbuf[] packets =
        [
            Packet(bench.Pool, frames[0]), Packet(bench.Pool, frames[1]), Packet(foreign, frames[2]),
            Chained(bench.Pool, frames[3], 32), Packet(bench.Pool, frames[4]), Packet(bench.Pool, frames[5]),
        ];

        Assert.Equal(packets.Length, bench.Queue.Transmit(packets));
        AssertNoLeak(foreign); // dropped and freed at once
        List<FrontendDeviceBuffer> buffers = bench.PopAll();
        Assert.Equal([frames[0], frames[1], frames[3], frames[4], frames[5]], buffers.Select(b => bench.Read(b)[HeaderSize..]));
        Assert.Equal([1, 1, packets[3].SegmentCount, 1, 1], buffers.Select(b => b.Descs.Count)); // headers pushed, the chained one too
        Assert.Equal(1, bench.Stats.Faults);
        Assert.Equal(1, bench.Stats.Dropped);
        Assert.Equal(5, bench.Stats.Packets);

        foreach (FrontendDeviceBuffer b in buffers)
        {
            bench.Use(b, 0);
        }

        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.Equal(0, bench.Queue.InFlight);
        AssertNoLeak(bench.Pool);
    }

    [Fact]
    public void Transmit_garbage_in_the_headroom_of_a_fresh_queue_is_sent_as_a_zero_header_but_num_buffers()
    {
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 64);
        int serial = 0;

        // Garbage from the very first push (blind writes), past the 16th and 32nd pushes (where the queue checks).
        for (int i = 0; i < 40; i++)
        {
            SendPushed(bench, NumberedFrame(60 + i, serial++), Garbage(i));
        }

        // Then a fixed pseudo-random mix of zero and garbage headroom, moving the queue's score up and down.
        var random = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            byte[] headroom = random.Next(3) == 0 ? Garbage(random.Next(32)) : ZeroHeader;
            if (random.Next(8) == 0)
            {
                headroom = new byte[HeaderSize];
                headroom[random.Next(HeaderSize)] = 0x80;
            }

            SendPushed(bench, NumberedFrame(60 + random.Next(1400), serial++), headroom);
        }

        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.Equal(0, bench.Queue.InFlight);
        Assert.Equal(0, bench.Stats.Faults);
        AssertNoLeak(bench.Pool);
    }

    // ---- transmit: descriptor and avail-ring copies across a reset ----

    /// <summary>Stops, resets and restarts the queue, and rewinds the test device to the start of the cleared rings.</summary>
    private static void ResetQueue(FrontendQueueBench bench)
    {
        Assert.True(bench.Queue.Stop(TimeSpan.FromSeconds(1)));
        bench.Queue.Reset();
        FrontendSplitDevice device = bench.SplitDevice!;
        Assert.Equal(0, device.AvailIdx);
        Assert.Equal(0, device.PublishedUsedIdx);
        device.LastAvail = 0;
        device.UsedIdx = 0;
    }

    [Fact]
    public void Transmit_after_a_reset_the_same_packets_are_described_again_in_the_cleared_rings()
    {
        // Held twice, the packets are never pushed into: each gets a first descriptor on the queue's shared zero header,
        // then one per segment. Sent again after a reset, every descriptor and avail entry is exactly what it was before
        // the reset, which is what the private copies remember, while the ring itself was cleared.
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 16);
        byte[][] frames = [NumberedFrame(100, 1), NumberedFrame(900, 2), NumberedFrame(1514, 3), NumberedFrame(60, 4)];
        Mbuf[] packets = [Packet(bench.Pool, frames[0]), Chained(bench.Pool, frames[1], 300), Packet(bench.Pool, frames[2]), Packet(bench.Pool, frames[3])];
        ulong zeroHeader = 0;
        for (int round = 0; round < 4; round++)
        {
            foreach (Mbuf m in packets)
            {
                for (Mbuf s = m; !s.IsNull; s = s.Next)
                {
                    s.AddReferences(1); // the queue's reference, on every segment (a free drops one per segment); ours stays
                }
            }

            Assert.Equal(packets.Length, bench.Queue.Transmit(packets));
            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            Assert.Equal(packets.Length, buffers.Count);
            Assert.Equal(packets.Length, buffers.Select(b => b.Id).Distinct().Count());
            for (int i = 0; i < packets.Length; i++)
            {
                IReadOnlyList<FrontendDeviceDesc> descs = buffers[i].Descs;
                Assert.Equal(1 + packets[i].SegmentCount, descs.Count);
                Assert.Equal(HeaderSize, (int)descs[0].Len);
                Assert.Equal(VirtqDescFlags.Next, descs[0].Flags);
                zeroHeader = zeroHeader == 0 ? descs[0].Addr : zeroHeader;
                Assert.Equal(zeroHeader, descs[0].Addr);
                int k = 1;
                for (Mbuf s = packets[i]; !s.IsNull; s = s.Next, k++)
                {
                    VirtqDescFlags flags = s.Next.IsNull ? VirtqDescFlags.None : VirtqDescFlags.Next;
                    Assert.Equal(new FrontendDeviceDesc((ulong)(s.BufferAddress + s.DataOffset), s.DataLength, flags), descs[k]);
                }

                Assert.Equal([.. ZeroHeader, .. frames[i]], bench.Read(buffers[i]));
            }

            // Even rounds: completed before the reset; odd rounds: still in flight when it comes (freed, counted dropped).
            if (round % 2 == 0)
            {
                foreach (FrontendDeviceBuffer b in buffers)
                {
                    bench.Use(b, 0);
                }

                Assert.Equal(0, bench.Queue.Transmit([]));
            }

            long dropped = bench.Stats.Dropped;
            ResetQueue(bench);
            Assert.Equal(dropped + (round % 2 == 0 ? 0 : packets.Length), bench.Stats.Dropped);
            Assert.Equal(0, bench.Queue.InFlight);
            Assert.All(packets, m =>
            {
                Assert.Null(m.Validate());
                for (Mbuf s = m; !s.IsNull; s = s.Next)
                {
                    Assert.Equal(1, s.RefCount);
                }
            });
            bench.Queue.Start();
        }

        Mbuf.FreeBulk(packets);
        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void Transmit_after_a_reset_pushed_packets_in_the_same_buffers_are_described_again_in_the_cleared_rings()
    {
        // A pool of exactly eight mbufs: every round sends the same eight buffers, sorted by address, so the same
        // buffer goes to the same descriptor and avail slot in every round, pushed header and all.
        const int Count = 8;
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 16, poolSize: Count);
        List<ulong>? firstRound = null;
        int serial = 0;
        for (int round = 0; round < 4; round++)
        {
            var packets = new Mbuf[Count];
            for (int i = 0; i < Count; i++)
            {
                packets[i] = bench.Pool.Alloc();
                Assert.False(packets[i].IsNull);
            }

            Array.Sort(packets, (a, b) => a.BufferAddress.CompareTo(b.BufferAddress));
            var frames = new byte[Count][];
            var headrooms = new byte[Count][];
            var data = new List<ulong>();
            for (int i = 0; i < Count; i++)
            {
                frames[i] = NumberedFrame(64 + (i * 100), serial++);
                Assert.True(packets[i].TryAppend(frames[i].Length, out Span<byte> tail));
                frames[i].CopyTo(tail);
                headrooms[i] = Garbage(i + round);
                SetHeadroom(packets[i], headrooms[i]);
                data.Add((ulong)(packets[i].BufferAddress + packets[i].DataOffset));
            }

            firstRound ??= data;
            Assert.Equal(firstRound, data); // the same buffers at the same offsets every round

            Assert.Equal(Count, bench.Queue.Transmit(packets));
            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            Assert.Equal(Count, buffers.Count);
            Assert.Equal(Enumerable.Range(0, Count).Select(i => (ushort)i), buffers.Select(b => b.Id)); // a fresh free list
            for (int i = 0; i < Count; i++)
            {
                FrontendDeviceDesc d = Assert.Single(buffers[i].Descs);
                Assert.Equal(new FrontendDeviceDesc(data[i] - HeaderSize, (uint)(HeaderSize + frames[i].Length), VirtqDescFlags.None), d);
                Assert.Equal([.. PushedHeader(headrooms[i]), .. frames[i]], bench.Read(buffers[i]));
            }

            if (round % 2 == 0)
            {
                foreach (FrontendDeviceBuffer b in buffers)
                {
                    bench.Use(b, 0);
                }

                Assert.Equal(0, bench.Queue.Transmit([]));
            }

            ResetQueue(bench);
            AssertNoLeak(bench.Pool);
            bench.Queue.Start();
        }

        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void Transmit_the_same_buffers_in_other_lengths_orders_and_chains_are_described_afresh()
    {
        // The same few buffers again and again through a small ring, completed in a shuffled order: descriptors come
        // back holding the same address with another length, another flags or another next (the shared zero header
        // is in every chain), and each of those must be written.
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Transmit, 0, size: 8);
        byte[][] contents = [NumberedFrame(2000, 1), NumberedFrame(900, 2), NumberedFrame(1000, 3), NumberedFrame(400, 4)];
        Mbuf[] held = [Packet(bench.Pool, contents[0]), Chained(bench.Pool, contents[1], 300), Packet(bench.Pool, contents[2]), Chained(bench.Pool, contents[3], 200)];
        var random = new Random(11);
        for (int burst = 0; burst < 300; burst++)
        {
            // A shuffled selection that fits the ring (2 to 4 descriptors each: the header, then one per segment).
            var chosen = new List<int>();
            int descriptors = 0;
            foreach (int i in Enumerable.Range(0, held.Length).OrderBy(_ => random.Next()))
            {
                int need = 1 + held[i].SegmentCount;
                if (descriptors + need <= 8 && random.Next(4) != 0)
                {
                    chosen.Add(i);
                    descriptors += need;
                }
            }

            if (chosen.Count == 0)
            {
                continue;
            }

            var frames = new List<byte[]>();
            foreach (int i in chosen)
            {
                Mbuf m = held[i];
                if (m.SegmentCount == 1)
                {
                    int length = random.Next(14, contents[i].Length + 1);
                    m.DataLength = (ushort)length;
                    m.PacketLength = (uint)length;
                }

                frames.Add(Bytes(m));
                for (Mbuf s = m; !s.IsNull; s = s.Next)
                {
                    s.AddReferences(1); // held twice: never pushed into, the header is its own descriptor
                }
            }

            Assert.Equal(chosen.Count, bench.Queue.Transmit([.. chosen.Select(i => held[i])]));
            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            Assert.Equal(chosen.Count, buffers.Count);
            for (int c = 0; c < chosen.Count; c++)
            {
                IReadOnlyList<FrontendDeviceDesc> descs = buffers[c].Descs;
                Mbuf m = held[chosen[c]];
                Assert.Equal(1 + m.SegmentCount, descs.Count);
                Assert.Equal((uint)HeaderSize, descs[0].Len);
                Assert.Equal(VirtqDescFlags.Next, descs[0].Flags);
                Assert.True(bench.Area.Region.Contains((nint)descs[0].Addr, descs[0].Len));
                int k = 1;
                for (Mbuf s = m; !s.IsNull; s = s.Next, k++)
                {
                    VirtqDescFlags flags = s.Next.IsNull ? VirtqDescFlags.None : VirtqDescFlags.Next;
                    Assert.Equal(new FrontendDeviceDesc((ulong)(s.BufferAddress + s.DataOffset), s.DataLength, flags), descs[k]);
                }

                Assert.Equal([.. ZeroHeader, .. frames[c]], bench.Read(buffers[c]));
            }

            foreach (FrontendDeviceBuffer b in buffers.OrderBy(_ => random.Next()))
            {
                bench.Use(b, 0);
            }

            Assert.Equal(0, bench.Queue.Transmit([]));
            Assert.Equal(0, bench.Queue.InFlight);
        }

        Mbuf.FreeBulk(held);
        Assert.Equal(0, bench.Stats.Faults);
        bench.DisposeAndAssertNoLeak();
    }

    // ---- receive: descriptors reused for the same mbufs, refill before harvest ----

    /// <summary>What the test device wrote for one packet: the buffers (as it read their descriptors) and the frame.</summary>
    private sealed record Delivered(List<ulong> Buffers, byte[] Frame);

    /// <summary>
    /// Plays the device on a split receive ring until <paramref name="buffersToUse"/> buffers were used: each round it
    /// takes what was made available, checks each descriptor it uses (device-writable, the posted length, an address
    /// the backend can write), writes a distinct frame into it (sometimes two buffers, with merged buffers), marks
    /// them used (sometimes out of order), and checks that every packet the queue returns holds that frame, in the
    /// mbuf whose buffer the descriptor named.
    /// </summary>
    private static void RunReceiveRounds(FrontendQueueBench bench, bool mergeable, int buffersToUse, Random random, ref int serial)
    {
        FrontendSplitDevice device = bench.SplitDevice!;
        var popped = new Queue<ushort>();
        var held = new List<Mbuf>();
        var packets = new Mbuf[bench.Queue.Size];
        int usedBuffers = 0;
        while (usedBuffers < buffersToUse)
        {
            foreach (ushort head in device.PopAll())
            {
                popped.Enqueue(head);
            }

            if (popped.Count == 0)
            {
                // Every posted buffer was used and harvested: this burst only refills (the held mbufs go back after it).
                Assert.Equal(0, bench.Queue.Receive(packets));
                Mbuf.FreeBulk(held.ToArray());
                held.Clear();
                continue;
            }

            var heads = new List<ushort>();
            int take = random.Next(1, popped.Count + 1);
            for (int i = 0; i < take; i++)
            {
                heads.Add(popped.Dequeue());
            }

            var delivered = new List<Delivered>();
            var used = new List<(ushort Head, uint Len)>();
            for (int i = 0; i < heads.Count; i++)
            {
                VirtqDesc first = device.Desc(heads[i]);
                Assert.Equal(VirtqDescFlags.Write, (VirtqDescFlags)first.Flags);
                Assert.Equal((uint)BufferBytes, first.Len);
                Assert.True(bench.Memory.IsMapped(first.Addr, first.Len));
                if (mergeable && i + 1 < heads.Count && random.Next(5) == 0)
                {
                    VirtqDesc second = device.Desc(heads[i + 1]);
                    Assert.Equal(VirtqDescFlags.Write, (VirtqDescFlags)second.Flags);
                    Assert.Equal((uint)BufferBytes, second.Len);
                    byte[] big = NumberedFrame(BufferBytes - HeaderSize + random.Next(1, BufferBytes + 1), serial++);
                    uint firstLen = device.WriteRx(heads[i], big.AsSpan(0, BufferBytes - HeaderSize), numBuffers: 2);
                    uint secondLen = device.WriteRx(heads[i + 1], big.AsSpan(BufferBytes - HeaderSize), numBuffers: 0, withHeader: false);
                    used.Add((heads[i], firstLen));
                    used.Add((heads[i + 1], secondLen));
                    delivered.Add(new Delivered([first.Addr, second.Addr], big));
                    i++;
                    continue;
                }

                byte[] frame = NumberedFrame(14 + random.Next(BufferBytes - HeaderSize - 14 + 1), serial++);
                used.Add((heads[i], device.WriteRx(heads[i], frame, numBuffers: 1)));
                delivered.Add(new Delivered([first.Addr], frame));
            }

            // The device may use buffers in any order (no IN_ORDER); merged buffers stay together and in order.
            if (!mergeable && random.Next(4) == 0)
            {
                int[] order = [.. Enumerable.Range(0, used.Count).OrderBy(_ => random.Next())];
                used = [.. order.Select(k => used[k])];
                delivered = [.. order.Select(k => delivered[k])];
            }

            foreach ((ushort head, uint len) in used)
            {
                device.Use(head, len);
            }

            usedBuffers += used.Count;
            int n = bench.Queue.Receive(packets);
            Assert.Equal(delivered.Count, n);
            for (int i = 0; i < n; i++)
            {
                Mbuf m = packets[i];
                Assert.Null(m.Validate());
                Assert.Equal(delivered[i].Frame, Bytes(m));
                Assert.Equal(delivered[i].Buffers.Count, m.SegmentCount);
                int k = 0;
                for (Mbuf s = m; !s.IsNull; s = s.Next, k++)
                {
                    // The head's header sits just before its data; a further buffer's data starts at the posted address.
                    ulong posted = (ulong)(s.BufferAddress + s.DataOffset) - (k == 0 ? (ulong)HeaderSize : 0);
                    Assert.Equal(delivered[i].Buffers[k], posted);
                }
            }

            // Mostly freed at once, as a forwarding loop does; sometimes held for a round (the pool then runs short).
            Mbuf.FreeBulk(held.ToArray());
            held.Clear();
            if (random.Next(6) == 0)
            {
                held.AddRange(packets.AsSpan(0, n).ToArray());
            }
            else
            {
                Mbuf.FreeBulk(packets.AsSpan(0, n));
            }
        }

        Mbuf.FreeBulk(held.ToArray());
    }

    [Theory]
    [InlineData(false, 64)]  // a pool exactly the ring's size: the same mbufs cycle through the same descriptors
    [InlineData(true, 64)]
    [InlineData(false, 200)] // a larger pool: descriptors get other mbufs too
    [InlineData(true, 200)]
    public void Receive_over_ten_laps_and_after_a_reset_every_packet_comes_back_in_the_buffer_the_device_wrote(bool mergeable, int poolSize)
    {
        const int Size = 64;
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Receive, mergeable ? Mrg : 0, size: Size, poolSize: poolSize);
        var random = new Random(poolSize + (mergeable ? 1 : 0));
        int serial = 0;
        RunReceiveRounds(bench, mergeable, 10 * Size, random, ref serial);
        Assert.Equal(0, bench.Stats.Faults);

        for (int reset = 0; reset < 3; reset++)
        {
            ResetQueue(bench);
            AssertNoLeak(bench.Pool); // what was posted went back to the pool
            Assert.Equal(Math.Min(Size, poolSize), bench.Queue.Fill());
            bench.Queue.Start();
            RunReceiveRounds(bench, mergeable, 3 * Size, random, ref serial);
        }

        Assert.Equal(0, bench.Stats.Faults);
        Assert.Equal(0, bench.Stats.Dropped);
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void Receive_refills_before_harvesting_so_each_descriptor_gets_its_own_mbuf_back()
    {
        // Not a correctness property but the documented point of refilling first: with a pool exactly the ring's size,
        // a device using buffers in order and the application freeing each burst before the next, every avail slot
        // holds the same head and every descriptor the same buffer, lap after lap (so neither is ever rewritten).
        const int Size = 64;
        using var bench = new FrontendQueueBench(false, DriverQueueRole.Receive, 0, size: Size, poolSize: Size);
        FrontendSplitDevice device = bench.SplitDevice!;
        var slotHead = new ushort[Size];
        var headAddr = new ulong[Size];
        var popped = new Queue<ushort>();
        var packets = new Mbuf[Size];
        int serial = 0;
        for (int round = 0; round < 40; round++)
        {
            while (device.LastAvail != device.AvailIdx)
            {
                int slot = device.LastAvail % Size;
                Assert.True(device.TryPop(out ushort head));
                ulong addr = device.Desc(head).Addr;
                if (round == 0)
                {
                    slotHead[slot] = head;
                    headAddr[head] = addr;
                }
                else
                {
                    Assert.Equal(slotHead[slot], head);
                    Assert.Equal(headAddr[head], addr);
                }

                popped.Enqueue(head);
            }

            var frames = new List<byte[]>();
            for (int i = 0; i < 16; i++)
            {
                ushort head = popped.Dequeue();
                byte[] frame = NumberedFrame(100, serial++);
                device.Use(head, device.WriteRx(head, frame, 1));
                frames.Add(frame);
            }

            int n = bench.Queue.Receive(packets);
            Assert.Equal(frames, packets.Take(n).Select(Bytes));
            Mbuf.FreeBulk(packets.AsSpan(0, n));
        }

        Assert.Equal(0, bench.Stats.Faults);
        Assert.Equal(0, bench.Stats.RxNoMbuf);
        bench.DisposeAndAssertNoLeak();
    }
}
