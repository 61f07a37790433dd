using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A hostile guest (hardening.md §1, §3.6 VU-09..VU-12, CVE-2018-1059, CVE-2020-10725, CVE-2022-2132): every
/// malformed chain is given back as used with length 0 and counted with the right fault, only that packet is
/// affected, nothing crashes or hangs, and no mbuf leaks.
/// </summary>
public sealed class PackedHostileRingTests
{
    private const ulong Indirect = PackedTestBench.Modern | PackedTestBench.IndirectDesc;

    private static readonly VirtqDescFlags N = VirtqDescFlags.Next;
    private static readonly VirtqDescFlags W = VirtqDescFlags.Write;
    private static readonly VirtqDescFlags I = VirtqDescFlags.Indirect;

    public static TheoryData<string, ulong, VhostQueueFault> TxCases() => new()
    {
        { "writable", PackedTestBench.Modern, VhostQueueFault.WrongDirection },
        { "writable-second", PackedTestBench.Modern, VhostQueueFault.WrongDirection },
        { "unmapped", PackedTestBench.Modern, VhostQueueFault.AddressNotMapped },
        { "crosses-end", PackedTestBench.Modern, VhostQueueFault.AddressNotMapped },
        { "wraps-2^64", PackedTestBench.Modern, VhostQueueFault.AddressNotMapped },
        { "huge-lengths", PackedTestBench.Modern, VhostQueueFault.LengthOverflow },
        { "sum-too-long", PackedTestBench.Modern, VhostQueueFault.LengthOverflow },
        { "header-only", PackedTestBench.Modern, VhostQueueFault.HeaderTooShort },
        { "header-short", PackedTestBench.Modern, VhostQueueFault.HeaderTooShort },
        { "empty", PackedTestBench.Modern, VhostQueueFault.HeaderTooShort },
        { "id=size", PackedTestBench.Modern, VhostQueueFault.BadBufferId },
        { "id=ffff", PackedTestBench.Modern, VhostQueueFault.BadBufferId },
        { "indirect-not-negotiated", PackedTestBench.Modern, VhostQueueFault.BadIndirectTable },
        { "indirect-len-0", Indirect, VhostQueueFault.BadIndirectTable },
        { "indirect-len-24", Indirect, VhostQueueFault.BadIndirectTable },
        { "indirect-too-big", Indirect, VhostQueueFault.BadIndirectTable },
        { "indirect-unmapped", Indirect, VhostQueueFault.BadIndirectTable },
        { "indirect-crosses-end", Indirect, VhostQueueFault.BadIndirectTable },
        { "indirect-nested", Indirect, VhostQueueFault.NestedIndirect },
        { "indirect-with-next", Indirect, VhostQueueFault.NestedIndirect },
        { "indirect-after-next", Indirect, VhostQueueFault.NestedIndirect },
        { "indirect-entry-unmapped", Indirect, VhostQueueFault.AddressNotMapped },
    };

    private static (ushort, int) Raw(PackedTestBench b, ushort id, VirtqPackedDesc[] descs)
    {
        b.Driver.PostRaw(descs, id);
        return (id, descs.Length);
    }

    private static ulong Buffer(PackedTestBench b, int length) => b.PlaceScratch(new byte[length], write: false).Gpa;

    private static (ushort Id, int Descriptors) PostTxCase(PackedTestBench b, string name)
    {
        const ushort Id = 200;
        ulong buf = Buffer(b, 4096);
        ulong table = b.Guest.Scratch(64, 16);
        switch (name)
        {
            case "writable": return Raw(b, Id, [new(buf, 100, Id, W)]);
            case "writable-second": return Raw(b, Id, [new(buf, 12, Id, N), new(buf, 100, Id, W)]);
            case "unmapped": return Raw(b, Id, [new(buf, 12, Id, N), new(0xDEAD_0000_0000, 100, Id, 0)]);
            case "crosses-end": return Raw(b, Id, [new(b.Guest.End - 10, 100, Id, 0)]);
            case "wraps-2^64": return Raw(b, Id, [new(ulong.MaxValue - 5, 100, Id, 0)]);
            case "huge-lengths": return Raw(b, Id, [new(buf, uint.MaxValue, Id, N), new(buf, uint.MaxValue, Id, 0)]);
            case "sum-too-long":
                var many = new VirtqPackedDesc[17];
                for (int i = 0; i < many.Length; i++)
                {
                    many[i] = new(buf, 4096, Id, i < many.Length - 1 ? N : 0); // 69632 bytes over the same buffer
                }

                return Raw(b, Id, many);
            case "header-only": return Raw(b, Id, [new(buf, 5, Id, N), new(buf, 7, Id, 0)]);
            case "header-short": return Raw(b, Id, [new(buf, 5, Id, 0)]);
            case "empty": return Raw(b, Id, [new(0xDEAD_0000_0000, 0, Id, 0)]);
            case "id=size": return Raw(b, (ushort)b.Queue.Size, [new(buf, 100, (ushort)b.Queue.Size, 0)]);
            case "id=ffff": return Raw(b, 0xFFFF, [new(buf, 100, 0xFFFF, 0)]);
            case "indirect-not-negotiated":
            case "indirect-len-0":
            case "indirect-len-24":
            case "indirect-too-big":
                b.Driver.WriteTable(table, [new(buf, 100, 0, 0), new(buf, 100, 0, 0)]);
                uint len = name switch { "indirect-len-0" => 0u, "indirect-len-24" => 24u, "indirect-too-big" => (uint)(b.Queue.Size * 16) + 16, _ => 32u };
                return Raw(b, Id, [new(table, len, Id, I)]);
            case "indirect-unmapped": return Raw(b, Id, [new(0xDEAD_0000_0000, 32, Id, I)]);
            case "indirect-crosses-end": return Raw(b, Id, [new(b.Guest.End - 16, 32, Id, I)]);
            case "indirect-nested":
                b.Driver.WriteTable(table, [new(buf, 100, 0, 0), new(table, 32, 0, I)]);
                return Raw(b, Id, [new(table, 32, Id, I)]);
            case "indirect-with-next":
                b.Driver.WriteTable(table, [new(buf, 100, 0, 0)]);
                return Raw(b, Id, [new(table, 16, Id, I | N), new(buf, 100, Id, 0)]);
            case "indirect-after-next":
                b.Driver.WriteTable(table, [new(buf, 100, 0, 0)]);
                return Raw(b, Id, [new(buf, 100, Id, N), new(table, 16, Id, I)]);
            case "indirect-entry-unmapped":
                b.Driver.WriteTable(table, [new(buf, 12, 0, 0), new(0xDEAD_0000_0000, 100, 0, 0)]);
                return Raw(b, Id, [new(table, 32, Id, I)]);
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(TxCases))]
    public void A_malformed_transmit_chain_costs_only_its_packet(string name, ulong features, VhostQueueFault fault)
    {
        using var b = PackedTestBench.Create(features: features);
        byte[] p1 = PackedTestBench.Pattern(700, 1);
        byte[] p2 = PackedTestBench.Pattern(900, 2);
        ushort good1 = b.PostTx(p1, [5]);
        int badHead = b.Driver.NextAvail;
        var (badId, badDescriptors) = PostTxCase(b, name);
        ushort good2 = b.PostTx(p2);
        var packets = new Mbuf[8];

        Assert.Equal(2, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(p1, PackedTestBench.Contents(packets[0]));
        Assert.Equal(p2, PackedTestBench.Contents(packets[1]));
        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(fault, b.Stats.LastFault);
        Assert.InRange(b.Stats.LastFaultIndex, badHead, badHead + badDescriptors - 1);
        Assert.Equal(2, b.Stats.Packets);
        var used = b.Driver.TakeAllUsed();
        Assert.Equal([good1, badId, good2], used.Select(u => u.Id));
        Assert.Equal(0u, used[1].Len);
        Assert.Equal(badDescriptors, used[1].Descriptors);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        Mbuf.FreeBulk(packets.AsSpan(0, 2));
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_writable_indirect_entry_on_transmit_is_read_and_counted_not_refused()
    {
        // DPDK 22.11's virtio_user sets VRING_DESC_F_WRITE on every entry of a packed indirect table, Tx ones
        // included; DPDK's vhost reads them anyway. Reading is safe (nothing is written), so ours does too.
        using var b = PackedTestBench.Create(features: Indirect);
        byte[] frame = PackedTestBench.Pattern(100, 3);
        byte[] withHeader = new byte[12 + frame.Length];
        frame.CopyTo(withHeader, 12);
        ulong header = b.PlaceScratch(withHeader[..12], write: false).Gpa;
        ulong body = b.PlaceScratch(frame, write: false).Gpa;
        ulong table = b.Guest.Scratch(32, 16);
        b.Driver.WriteTable(table, [new(header, 12, 0, W), new(body, (uint)frame.Length, 0, W)]);
        b.Driver.PostRaw([new(table, 32, 9, I)], 9);
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(frame, PackedTestBench.Contents(packets[0]));
        Assert.Equal(0, b.Stats.Faults);
        Assert.Equal(2, b.Stats.IndirectWriteFlagsIgnored);
        Assert.Equal([(ushort)9], b.Driver.TakeAllUsed().Select(u => u.Id));
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Fact]
    public void An_element_crossing_into_a_guest_adjacent_region_is_refused()
    {
        using var b = PackedTestBench.Create(secondRegion: 1 << 20);
        ushort good = b.PostTx(PackedTestBench.Pattern(100, 1));
        b.Driver.PostRaw([new VirtqPackedDesc(b.Guest.End - 50, 100, 7, 0)], 7);
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(VhostQueueFault.AddressNotMapped, b.Stats.LastFault);
        Assert.Equal([good, (ushort)7], b.Driver.TakeAllUsed().Select(u => u.Id));
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_packet_of_exactly_64_KiB_passes_and_one_byte_more_is_a_length_overflow()
    {
        using var b = PackedTestBench.Create(poolSize: 256);
        b.PostTx(PackedTestBench.Pattern(Mbuf.MaxPacketLength, 1));
        b.PostTx(PackedTestBench.Pattern(Mbuf.MaxPacketLength + 1, 2));
        var packets = new Mbuf[4];

        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(Mbuf.MaxPacketLength, (int)packets[0].PacketLength);
        Assert.Equal(VhostQueueFault.LengthOverflow, b.Stats.LastFault);
        Assert.Equal(2, b.Driver.TakeAllUsed().Count);
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(16, false)]
    [InlineData(16, true)]
    [InlineData(13, false)]
    [InlineData(1, false)]
    public void A_chain_longer_than_the_ring_is_cut_at_the_ring_size(int size, bool receive)
    {
        using var b = PackedTestBench.Create(size: size);
        ulong buf = b.PlaceScratch(new byte[64], write: receive).Gpa;
        var loop = new VirtqPackedDesc[size];
        for (int i = 0; i < size; i++)
        {
            loop[i] = new VirtqPackedDesc(buf, 64, (ushort)(size - 1), VirtqDescFlags.Next | (receive ? VirtqDescFlags.Write : 0));
        }

        b.Driver.PostRaw(loop, (ushort)(size - 1));
        var packets = new Mbuf[4];
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(20, 1));

        Assert.Equal(0, receive ? b.Queue.Enqueue([packet]) : b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(VhostQueueFault.ChainTooLong, b.Stats.LastFault);
        var used = Assert.Single(b.Driver.TakeAllUsed());
        Assert.Equal(0u, used.Len);
        Assert.Equal(size, used.Descriptors);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase()); // one whole lap: same index, wrap counter toggled

        // The queue goes on.
        if (receive)
        {
            b.PostRx(100);
            Assert.Equal(1, b.Queue.Enqueue([packet]));
            Assert.Equal(PackedTestBench.Pattern(20, 1), b.ReceivePacket().Payload);
        }
        else
        {
            b.PostTx(PackedTestBench.Pattern(20, 1));
            Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));
            Assert.Equal(PackedTestBench.Pattern(20, 1), PackedTestBench.Contents(packets[0]));
            Mbuf.FreeBulk(packets.AsSpan(0, 1));
            Assert.Single(b.Driver.TakeAllUsed());
        }

        packet.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_next_flag_into_a_descriptor_not_made_available_ends_the_chain_there()
    {
        using var b = PackedTestBench.Create(size: 8);
        ulong buf = b.PlaceScratch(new byte[200], write: false).Gpa;
        b.Driver.PostRaw([new VirtqPackedDesc(buf, 200, 3, VirtqDescFlags.Next)], 3); // the next slot is still zero
        var packets = new Mbuf[4];

        Assert.Equal(0, b.Queue.Dequeue(b.Pool, packets));

        Assert.Equal(VhostQueueFault.ChainNotAvailable, b.Stats.LastFault);
        Assert.Equal(1, b.Stats.LastFaultIndex);
        var used = Assert.Single(b.Driver.TakeAllUsed());
        Assert.Equal(3, used.Id);
        Assert.Equal(1, used.Descriptors);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());

        b.PostTx(PackedTestBench.Pattern(50, 5));
        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(PackedTestBench.Pattern(50, 5), PackedTestBench.Contents(packets[0]));
        Mbuf.FreeBulk(packets.AsSpan(0, 1));
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData("read-only", VhostQueueFault.WrongDirection)]
    [InlineData("read-only-second", VhostQueueFault.WrongDirection)]
    [InlineData("unmapped", VhostQueueFault.AddressNotMapped)]
    [InlineData("shorter-than-header", VhostQueueFault.HeaderTooShort)]
    [InlineData("id=size", VhostQueueFault.BadBufferId)]
    [InlineData("indirect-nested", VhostQueueFault.NestedIndirect)]
    [InlineData("indirect-entry-read-only", VhostQueueFault.WrongDirection)]
    public void A_malformed_receive_chain_is_given_back_and_the_packet_goes_to_the_next(string name, VhostQueueFault fault)
    {
        using var b = PackedTestBench.Create(features: Indirect);
        ulong buf = b.Guest.Scratch(4096);
        ulong table = b.Guest.Scratch(32, 16);
        const ushort Id = 100;
        VirtqPackedDesc[] bad = name switch
        {
            "read-only" => [new(buf, 2000, Id, 0)],
            "read-only-second" => [new(buf, 100, Id, N | W), new(buf, 2000, Id, 0)],
            "unmapped" => [new(buf, 100, Id, N | W), new(0xDEAD_0000_0000, 2000, Id, W)],
            "shorter-than-header" => [new(buf, 4, Id, N | W), new(buf, 7, Id, W)],
            "id=size" => [new(buf, 2000, (ushort)b.Queue.Size, W)],
            "indirect-nested" => [new(table, 32, Id, I)],
            "indirect-entry-read-only" => [new(table, 32, Id, I)],
            _ => throw new ArgumentException(name),
        };
        b.Driver.WriteTable(table, [new(buf, 100, 0, W), name == "indirect-nested" ? new(table, 32, 0, I | W) : new(buf, 2000, 0, 0)]);
        ushort badId = bad[^1].Id;
        b.Driver.PostRaw(bad, badId);
        ushort good = b.PostRx(2000);
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(1000, 1));

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(fault, b.Stats.LastFault);
        Assert.True(b.Driver.TryTakeUsed(out var given));
        Assert.Equal(badId, given.Id);
        Assert.Equal(0u, given.Len);
        Assert.Equal(0, given.Flags & (ushort)VirtqDescFlags.Write);
        Assert.True(b.Driver.TryTakeUsed(out var used));
        Assert.Equal(good, used.Id);
        Assert.Equal(PackedTestBench.Pattern(1000, 1), b.Written(used)[12..]);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        packet.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_mrg_rxbuf_a_malformed_chain_among_a_packets_buffers_restarts_the_packet_after_it()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf | PackedTestBench.InOrder);
        ushort first = b.PostRx(1536);
        ulong buf = b.Guest.Scratch(100);
        b.Driver.PostRaw([new VirtqPackedDesc(buf, 100, 77, 0)], 77); // read-only in a receiveq
        ushort second = b.PostRx(1536);
        ushort third = b.PostRx(1536);
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(2000, 1));

        Assert.Equal(1, b.Queue.Enqueue([packet]));

        // Used in avail order: the first chain unused, the malformed one, then the packet in the next two.
        Assert.True(b.Driver.TryTakeUsed(out var unused));
        Assert.Equal((first, 0u), (unused.Id, unused.Len));
        Assert.True(b.Driver.TryTakeUsed(out var given));
        Assert.Equal((77, 0u), (given.Id, given.Len));
        Assert.True(b.Driver.TryTakeUsed(out var head));
        Assert.Equal(second, head.Id);
        Assert.Equal(2, BitConverter.ToUInt16(b.Written(head), 10)); // num_buffers
        Assert.True(b.Driver.TryTakeUsed(out var tail));
        Assert.Equal(third, tail.Id);
        Assert.Equal(PackedTestBench.Pattern(2000, 1), b.Written(head)[12..].Concat(b.Written(tail)).ToArray());
        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(VhostQueueFault.WrongDirection, b.Stats.LastFault);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        packet.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_mrg_rxbuf_a_packet_that_runs_out_after_a_malformed_chain_waits_for_more()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf);
        ushort first = b.PostRx(1536);
        ulong buf = b.Guest.Scratch(100);
        b.Driver.PostRaw([new VirtqPackedDesc(buf, 100, 77, 0)], 77);
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(2000, 1));

        Assert.Equal(0, b.Queue.Enqueue([packet]));
        Assert.Equal([first, (ushort)77], b.Driver.TakeAllUsed().Select(u => u.Id));
        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(1, b.Stats.Dropped);

        b.PostRx(1536);
        b.PostRx(1536);
        Assert.Equal(1, b.Queue.Enqueue([packet]));
        Assert.Equal(1, b.Stats.Faults);
        Assert.Equal(PackedTestBench.Pattern(2000, 1), b.ReceivePacket().Payload);
        Assert.Equal(b.Driver.AvailBase, b.Queue.GetBase());
        packet.Free();
        b.AssertNoLeaks();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_rings_never_crash_hang_or_leak(int seed)
    {
        var rng = new Random(seed);
        using var b = PackedTestBench.Create(size: 64, features: PackedTestBench.Modern | PackedTestBench.IndirectDesc | PackedTestBench.MrgRxbuf | PackedTestBench.EventIdx, call: true, log: true, logUsedRing: true);
        using var rx = PackedTestBench.Create(size: 61, features: PackedTestBench.Modern | PackedTestBench.IndirectDesc | PackedTestBench.MrgRxbuf, call: true);
        var packets = new Mbuf[16];
        Mbuf[] outgoing = Enumerable.Range(0, 8).Select(i => rx.MakePacket(PackedTestBench.Pattern(rng.Next(1, 5000), i))).ToArray();
        ulong scratch = b.Guest.Scratch(1 << 16, 16);
        ulong rxScratch = rx.Guest.Scratch(1 << 16, 16);
        for (int round = 0; round < 3000; round++)
        {
            Scribble(b, rng, scratch);
            Scribble(rx, rng, rxScratch);
            int n = b.Queue.Dequeue(b.Pool, packets);
            for (int i = 0; i < n; i++)
            {
                Assert.Null(packets[i].Validate());
            }

            Mbuf.FreeBulk(packets.AsSpan(0, n));
            rx.Queue.Enqueue(outgoing);
            Assert.InRange(b.Queue.GetBase() & 0x7FFF, 0u, 63u);
            Assert.InRange(rx.Queue.GetBase() & 0x7FFF, 0u, 60u);
        }

        Assert.True(b.Stats.Faults > 0);
        Assert.True(rx.Stats.Faults > 0);
        Mbuf.FreeBulk(outgoing);
        b.AssertNoLeaks();
        rx.AssertNoLeaks();
    }

    /// <summary>Writes random descriptors (addresses inside and outside guest memory, random lengths, ids and flags) and random tables.</summary>
    private static void Scribble(PackedTestBench b, Random rng, ulong scratch)
    {
        int size = b.Queue.Size;
        for (int k = rng.Next(0, 12); k > 0; k--)
        {
            int slot = rng.Next(size);
            ulong addr = rng.Next(4) switch
            {
                0 => scratch + (ulong)rng.Next(1 << 16),
                1 => (ulong)rng.NextInt64(),
                2 => b.Guest.End - (ulong)rng.Next(0, 64),
                _ => scratch + (ulong)(rng.Next(1 << 12) * 16),
            };
            uint len = rng.Next(3) switch { 0 => (uint)rng.Next(0, 3000), 1 => (uint)rng.Next(), _ => (uint)(rng.Next(0, 8) * 16) };
            ushort flags = (ushort)rng.Next(0x10000);
            Span<byte> d = b.Driver.Desc(slot);
            System.Runtime.InteropServices.MemoryMarshal.Write(d, new VirtqPackedDesc(addr, len, (ushort)rng.Next(0x10000), (VirtqDescFlags)flags));
        }

        // Random tables in the scratch area.
        Span<byte> tables = b.Guest.Bytes(scratch, 4096);
        for (int k = rng.Next(0, 8); k > 0; k--)
        {
            int at = rng.Next(tables.Length / 16) * 16;
            System.Runtime.InteropServices.MemoryMarshal.Write(tables[at..], new VirtqPackedDesc(scratch + (ulong)rng.Next(1 << 15), (uint)rng.Next(0, 5000), 0, (VirtqDescFlags)rng.Next(0x10000)));
        }

        b.Driver.SetDriverEvent((PackedEventFlags)rng.Next(4), rng.Next(0x8000), rng.Next(2) == 0);
    }
}
