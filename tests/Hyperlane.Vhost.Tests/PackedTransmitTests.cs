using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Guest → host over a packed transmitq: <see cref="PackedVhostQueue.Dequeue"/> against a spec-following test driver.</summary>
public sealed class PackedTransmitTests
{
    private const ushort UsedWrap1 = (ushort)(VirtqDescFlags.Avail | VirtqDescFlags.Used);

    public static TheoryData<int, ulong> Sizes()
    {
        var data = new TheoryData<int, ulong>();
        foreach (int size in new[] { 64, 65, 128, 1500, 2048, 2049, 4000, 9000, 65536 })
        {
            data.Add(size, PackedTestBench.Modern);
            data.Add(size, PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
            data.Add(size, PackedTestBench.RingPacked); // legacy 10-byte header
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_packet_round_trips_into_chained_mbufs(int size, ulong features)
    {
        using var b = PackedTestBench.Create(features: features);
        byte[] payload = PackedTestBench.Pattern(size, size);
        ushort id = b.PostTx(payload, headerFill: 0xAB);
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(payload, PackedTestBench.Contents(packets[0]));
        Assert.Equal((size + 2047) / 2048, packets[0].SegmentCount);
        Assert.Equal(1, b.Stats.Packets);
        Assert.Equal(size, b.Stats.Bytes);
        Assert.Equal(0, b.Stats.Faults);
        var used = Assert.Single(b.Driver.TakeAllUsed());
        Assert.Equal(id, used.Id);
        Assert.Equal(0u, used.Len);
        Assert.Equal(UsedWrap1, used.Flags); // no WRITE: nothing written
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(new[] { 5, 5, 2 })]                               // header over three descriptors
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]     // one byte each
    [InlineData(new[] { 12 })]                                    // header alone, then the payload
    [InlineData(new[] { 11, 2, 100, 1, 700 })]                    // header and payload mixed
    [InlineData(new[] { 3, 400, 400, 400, 400, 400, 400 })]
    public void Header_and_payload_may_span_descriptors(int[] split)
    {
        using var b = PackedTestBench.Create();
        byte[] payload = PackedTestBench.Pattern(3000, 9);
        b.PostTx(payload, split);
        b.PostTx(payload, split, indirect: false);
        var packets = new Mbuf[4];

        Assert.Equal(2, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(payload, PackedTestBench.Contents(packets[0]));
        Assert.Equal(payload, PackedTestBench.Contents(packets[1]));
        Assert.Equal(2, b.Driver.TakeAllUsed().Count);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        Mbuf.FreeBulk(packets.AsSpan(0, 2));
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 5, 5, 2 })]
    [InlineData(new[] { 12, 1000, 1000, 1000 })]
    public void Indirect_tables_carry_whole_chains(int[] split)
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.IndirectDesc);
        byte[] p1 = PackedTestBench.Pattern(4000, 1);
        byte[] p2 = PackedTestBench.Pattern(64, 2);
        ushort id1 = b.PostTx(p1, split, indirect: true);
        ushort id2 = b.PostTx(p2, indirect: false);
        var packets = new Mbuf[4];

        Assert.Equal(2, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(p1, PackedTestBench.Contents(packets[0]));
        Assert.Equal(p2, PackedTestBench.Contents(packets[1]));
        var used = b.Driver.TakeAllUsed();
        Assert.Equal([id1, id2], used.Select(u => u.Id));
        Assert.Equal(0, b.Stats.Faults);
        Mbuf.FreeBulk(packets.AsSpan(0, 2));
        b.AssertNoLeaks();
    }

    [Fact]
    public void Flags_other_than_write_in_an_indirect_table_are_ignored()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.IndirectDesc);
        byte[] payload = PackedTestBench.Pattern(500, 3);
        byte[] frame = new byte[12 + payload.Length];
        payload.CopyTo(frame, 12);
        var e1 = b.PlaceScratch(frame.AsSpan(0, 100), write: false);
        var e2 = b.PlaceScratch(frame.AsSpan(100), write: false);
        ulong table = b.Guest.Scratch(32, 16);
        // NEXT on the last entry, AVAIL/USED junk and ids: reserved in a table (§2.8.7), every entry is an element.
        b.Driver.WriteTable(table, [
            new VirtqPackedDesc(e1.Gpa, e1.Len, 77, VirtqDescFlags.Next | VirtqDescFlags.Avail),
            new VirtqPackedDesc(e2.Gpa, e2.Len, 9999, VirtqDescFlags.Next | VirtqDescFlags.Used)]);
        b.Driver.PostRaw([new VirtqPackedDesc(table, 32, 4, VirtqDescFlags.Indirect | VirtqDescFlags.Write)], 4); // WRITE on the pointer is ignored
        var packets = new Mbuf[1];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(payload, PackedTestBench.Contents(packets[0]));
        Assert.Equal(4, Assert.Single(b.Driver.TakeAllUsed()).Id);
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_zero_length_descriptor_is_skipped_without_looking_at_its_address()
    {
        using var b = PackedTestBench.Create();
        byte[] payload = PackedTestBench.Pattern(300, 4);
        byte[] frame = new byte[12 + payload.Length];
        payload.CopyTo(frame, 12);
        var a = b.PlaceScratch(frame.AsSpan(0, 50), write: false);
        var c = b.PlaceScratch(frame.AsSpan(50), write: false);
        ushort id = b.Driver.Post(a, new PackedTestElement(0xDEAD_BEEF_0000, 0, false), c);
        var packets = new Mbuf[1];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(payload, PackedTestBench.Contents(packets[0]));
        Assert.Equal(id, Assert.Single(b.Driver.TakeAllUsed()).Id);
        Assert.Equal(0, b.Stats.Faults);
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_burst_takes_at_most_the_span_and_the_rest_waits()
    {
        using var b = PackedTestBench.Create();
        for (int i = 0; i < 40; i++)
        {
            b.PostTx(PackedTestBench.Pattern(60 + i, i));
        }

        var packets = new Mbuf[32];
        Assert.Equal(32, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(32, b.Driver.TakeAllUsed().Count);
        for (int i = 0; i < 32; i++)
        {
            Assert.Equal(PackedTestBench.Pattern(60 + i, i), PackedTestBench.Contents(packets[i]));
        }

        Mbuf.FreeBulk(packets);
        Assert.Equal(8, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(PackedTestBench.Pattern(92, 32), PackedTestBench.Contents(packets[0]));
        Mbuf.FreeBulk(packets.AsSpan(0, 8));
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(8, b.Driver.TakeAllUsed().Count);
        Assert.Equal(40, b.Stats.Packets);
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(256)]
    [InlineData(250)]
    [InlineData(7)]
    public void The_ring_wraps_many_times_with_chains_across_the_end(int size)
    {
        using var b = PackedTestBench.Create(size: size, features: PackedTestBench.Modern | PackedTestBench.IndirectDesc);
        var packets = new Mbuf[32];
        var rng = new Random(size);
        int sent = 0, received = 0;
        var expected = new Queue<byte[]>();
        while (received < size * 12)
        {
            // Post chains of 1..5 descriptors (sometimes indirect) while they fit.
            while (true)
            {
                int parts = rng.Next(1, 6);
                if (parts > b.Driver.FreeDescriptors || b.Driver.InFlightChains >= 24)
                {
                    break;
                }

                byte[] payload = PackedTestBench.Pattern(rng.Next(60, 3000), sent);
                int[] split = Enumerable.Range(0, parts - 1).Select(_ => rng.Next(1, 20)).ToArray();
                b.PostTx(payload, split, indirect: rng.Next(4) == 0);
                expected.Enqueue(payload);
                sent++;
            }

            int n = b.Queue.Dequeue(b.Pool, packets);
            Assert.True(n > 0);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(expected.Dequeue(), PackedTestBench.Contents(packets[i]));
            }

            Mbuf.FreeBulk(packets.AsSpan(0, n));
            received += n;
            Assert.Equal(n, b.Driver.TakeAllUsed().Count);
            Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
            Assert.Equal(0, b.Driver.InFlightChains);
            b.Guest.ResetScratch();
        }

        Assert.Equal(0, b.Stats.Faults);
        Assert.Equal(received, b.Stats.Packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Without_mbufs_the_burst_stops_and_the_packet_stays_in_the_ring()
    {
        using var b = PackedTestBench.Create(poolSize: 4);
        byte[] big = PackedTestBench.Pattern(5000, 1); // 3 mbufs
        b.PostTx(big);
        b.PostTx(big);
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(1, b.Stats.MbufShortages);
        Assert.Equal(0, b.Stats.Dropped);
        Assert.Single(b.Driver.TakeAllUsed());
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, packets.AsSpan(1)));
        Assert.Empty(b.Driver.TakeAllUsed());

        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(big, PackedTestBench.Contents(packets[0]));
        Assert.Single(b.Driver.TakeAllUsed());
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_packet_the_pool_cannot_hold_in_255_mbufs_is_dropped_and_its_chain_given_back()
    {
        using var b = PackedTestBench.Create(poolSize: 600, dataRoom: 128 + 64); // 64 bytes per mbuf
        ushort big = b.PostTx(PackedTestBench.Pattern(64 * 256, 1));
        ushort small = b.PostTx(PackedTestBench.Pattern(200, 2));
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(PackedTestBench.Pattern(200, 2), PackedTestBench.Contents(packets[0]));
        Assert.Equal(4, packets[0].SegmentCount);
        Assert.Equal(1, b.Stats.Dropped);
        Assert.Equal([big, small], b.Driver.TakeAllUsed().Select(u => u.Id));
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_new_queue_resumes_where_get_base_says()
    {
        using var b = PackedTestBench.Create(size: 10);
        var packets = new Mbuf[8];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 3; i++)
            {
                b.PostTx(PackedTestBench.Pattern(100, i), [12]);
            }

            Assert.Equal(3, b.Queue.Dequeue(b.Pool, packets));
            Mbuf.FreeBulk(packets.AsSpan(0, 3));
            b.Driver.TakeAllUsed();
        }

        uint resumeAt = b.Queue.GetBase();
        Assert.Equal(b.Driver.AvailBase, resumeAt);
        Assert.Equal(0u, resumeAt & 0x8000); // 18 descriptors into a ring of 10: second lap, wrap counter 0

        var setup = new VirtqueueSetup
        {
            Index = 1,
            Size = 10,
            DescUserAddr = b.Guest.UserOf(b.Driver.RingGpa),
            AvailUserAddr = b.Guest.UserOf(b.Driver.DriverEventGpa),
            UsedUserAddr = b.Guest.UserOf(b.Driver.DeviceEventGpa),
            Base = resumeAt,
            Features = b.Features,
            Memory = b.Guest.Memory,
        };
        Assert.True(PackedVhostQueue.TryCreate(setup, out var again, out var error), error);
        b.PostTx(PackedTestBench.Pattern(100, 7), [12]);
        b.PostTx(PackedTestBench.Pattern(100, 8));
        Assert.Equal(2, again!.Dequeue(b.Pool, packets));
        Assert.Equal(PackedTestBench.Pattern(100, 7), PackedTestBench.Contents(packets[0]));
        Assert.Equal(2, b.Driver.TakeAllUsed().Count);
        Assert.Equal(b.Driver.AvailBase, again.GetBase());
        Mbuf.FreeBulk(packets.AsSpan(0, 2));
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_virtio_net_f_csum_the_header_requests_checksum_offload()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | (1UL << VirtioFeatures.NetCsum));
        byte[] frame = new byte[14 + 20 + 20 + 10];
        frame[12] = 0x08; // IPv4
        frame[14] = 0x45;
        frame[14 + 20 + 12] = 5 << 4; // TCP data offset 5
        var header = new VirtioNetHeader { Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16 };
        byte[] bytes = new byte[12 + frame.Length];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, header);
        frame.CopyTo(bytes, 12);
        b.Driver.Post(b.PlaceScratch(bytes, write: false));
        var packets = new Mbuf[1];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.True(packets[0].OffloadFlags.HasFlag(MbufOffloadFlags.TxTcpChecksum));
        Assert.Equal(frame, PackedTestBench.Contents(packets[0]));
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Without_virtio_net_f_csum_the_header_is_ignored()
    {
        using var b = PackedTestBench.Create();
        var header = new VirtioNetHeader { Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16, GsoType = 1, GsoSize = 100 };
        byte[] bytes = new byte[12 + 64];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, header);
        b.Driver.Post(b.PlaceScratch(bytes, write: false));
        var packets = new Mbuf[1];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(MbufOffloadFlags.None, packets[0].OffloadFlags);
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void An_empty_span_or_ring_takes_nothing_and_sends_nothing()
    {
        using var b = PackedTestBench.Create(call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, new Mbuf[4]));
        b.PostTx(PackedTestBench.Pattern(64, 0));
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, Span<Mbuf>.Empty));
        Assert.Equal(0ul, b.TakeSignals());
        Assert.Empty(b.Driver.TakeAllUsed());
        b.AssertNoLeaks();
    }
}
