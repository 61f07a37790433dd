using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Hostile rings (hardening.md §1 and VU-09..VU-12): each malformed chain never crashes or hangs, counts the right
/// fault, goes back to the guest as used with length 0, and costs only itself — the next good packet still goes
/// through. An avail index jump breaks the queue for good.
/// </summary>
public class SplitHostileTests
{
    private const ulong V1 = SplitTxTests.V1;
    private const ulong Mrg = SplitTxTests.Mrg;
    private const ulong Indirect = SplitTxTests.Indirect;
    private const ulong Unmapped = 0xDEAD_0000_0000;

    public static TheoryData<string, VhostQueueFault> Cases() => new()
    {
        { "self-loop", VhostQueueFault.ChainTooLong },
        { "two-loop", VhostQueueFault.ChainTooLong },
        { "loop-through-200-descriptors", VhostQueueFault.ChainTooLong },
        { "next-out-of-range", VhostQueueFault.DescriptorIndexOutOfRange },
        { "next-0xffff", VhostQueueFault.DescriptorIndexOutOfRange },
        { "head-out-of-range", VhostQueueFault.DescriptorIndexOutOfRange },
        { "head-0xffff", VhostQueueFault.DescriptorIndexOutOfRange },
        { "indirect-unmapped", VhostQueueFault.BadIndirectTable },
        { "indirect-crossing-region-end", VhostQueueFault.BadIndirectTable },
        { "indirect-zero-length", VhostQueueFault.BadIndirectTable },
        { "indirect-not-multiple-of-16", VhostQueueFault.BadIndirectTable },
        { "indirect-larger-than-ring", VhostQueueFault.BadIndirectTable },
        { "indirect-not-negotiated", VhostQueueFault.BadIndirectTable },
        { "indirect-nested", VhostQueueFault.NestedIndirect },
        { "indirect-with-next", VhostQueueFault.NestedIndirect },
        { "indirect-next-out-of-range", VhostQueueFault.DescriptorIndexOutOfRange },
        { "indirect-loop", VhostQueueFault.ChainTooLong },
        { "unmapped-address", VhostQueueFault.AddressNotMapped },
        { "address-in-a-hole", VhostQueueFault.AddressNotMapped },
        { "crossing-into-a-guest-adjacent-region", VhostQueueFault.AddressNotMapped },
        { "crossing-region-end-into-a-hole", VhostQueueFault.AddressNotMapped },
        { "address-wrapping-2-pow-64", VhostQueueFault.AddressNotMapped },
        { "lengths-overflowing-u32", VhostQueueFault.LengthOverflow },
        { "wrong-direction", VhostQueueFault.WrongDirection },
        { "shorter-than-header", VhostQueueFault.HeaderTooShort },
        { "all-zero-length", VhostQueueFault.HeaderTooShort },
    };

    public static TheoryData<string, VhostQueueFault> TxOnlyCases() => new()
    {
        { "header-only", VhostQueueFault.HeaderTooShort },
        { "longer-than-64-KiB", VhostQueueFault.LengthOverflow },
    };

    /// <summary>Builds the malformed chain <paramref name="kind"/> by hand and makes it available; returns the head as the guest wrote it.</summary>
    private static ushort PostBad(SplitRingDriver d, string kind, bool rx)
    {
        VirtqDescFlags dir = rx ? VirtqDescFlags.Write : VirtqDescFlags.None;
        VirtqDescFlags wrong = rx ? VirtqDescFlags.None : VirtqDescFlags.Write;
        VirtqDescFlags next = dir | VirtqDescFlags.Next;
        ulong buf = d.AllocBuffer(4096);
        ushort a = d.AllocDesc(), b = d.AllocDesc();
        ushort head = a;
        var descs = new List<ushort> { a, b };
        switch (kind)
        {
            case "self-loop":
                d.WriteDesc(a, buf, 16, next, a);
                break;
            case "two-loop":
                d.WriteDesc(a, buf, 16, next, b);
                d.WriteDesc(b, buf + 16, 16, next, a);
                break;
            case "loop-through-200-descriptors":
                var ring = new List<ushort> { a, b };
                for (int i = 0; i < 198; i++)
                {
                    ring.Add(d.AllocDesc());
                }

                for (int i = 0; i < ring.Count; i++)
                {
                    d.WriteDesc(ring[i], buf, 8, next, ring[(i + 1) % ring.Count]);
                }

                descs = ring;
                break;
            case "next-out-of-range":
                d.WriteDesc(a, buf, 100, next, (ushort)d.Size);
                break;
            case "next-0xffff":
                d.WriteDesc(a, buf, 100, next, 0xFFFF);
                break;
            case "head-out-of-range":
                head = (ushort)(d.Size + 44);
                break;
            case "head-0xffff":
                head = 0xFFFF;
                break;
            case "indirect-unmapped":
                d.WriteDesc(a, Unmapped, 32, VirtqDescFlags.Indirect);
                break;
            case "indirect-crossing-region-end":
                d.WriteDesc(a, SplitRingDriver.RegionAGpa + SplitRingDriver.RegionASize - 16, 32, VirtqDescFlags.Indirect);
                break;
            case "indirect-zero-length":
                d.WriteDesc(a, buf, 0, VirtqDescFlags.Indirect);
                break;
            case "indirect-not-multiple-of-16":
                d.WriteDescAt(buf, buf + 1024, 500, dir);
                d.WriteDesc(a, buf, 24, VirtqDescFlags.Indirect);
                break;
            case "indirect-larger-than-ring":
                d.WriteDesc(a, d.AllocBuffer(16 * (d.Size + 1), 16), (uint)(16 * (d.Size + 1)), VirtqDescFlags.Indirect);
                break;
            case "indirect-not-negotiated":
                d.WriteDescAt(buf, buf + 1024, 500, dir);
                d.WriteDesc(a, buf, 16, VirtqDescFlags.Indirect);
                break;
            case "indirect-nested":
                d.WriteDescAt(buf, buf + 1024, 100, next, 1);
                d.WriteDescAt(buf + 16, buf + 512, 16, VirtqDescFlags.Indirect);
                d.WriteDescAt(buf + 512, buf + 2048, 500, dir);
                d.WriteDesc(a, buf, 32, VirtqDescFlags.Indirect);
                break;
            case "indirect-with-next":
                d.WriteDescAt(buf, buf + 1024, 500, dir);
                d.WriteDesc(a, buf, 16, VirtqDescFlags.Indirect | VirtqDescFlags.Next, b);
                d.WriteDesc(b, buf + 2048, 100, dir);
                break;
            case "indirect-next-out-of-range":
                d.WriteDescAt(buf, buf + 1024, 100, next, 2);
                d.WriteDescAt(buf + 16, buf + 2048, 100, dir);
                d.WriteDesc(a, buf, 32, VirtqDescFlags.Indirect);
                break;
            case "indirect-loop":
                d.WriteDescAt(buf, buf + 1024, 16, next, 0);
                d.WriteDesc(a, buf, 16, VirtqDescFlags.Indirect);
                break;
            case "unmapped-address":
                d.WriteDesc(a, Unmapped, 100, dir);
                break;
            case "address-in-a-hole":
                d.WriteDesc(a, 0x5_0000, 100, dir);
                break;
            case "crossing-into-a-guest-adjacent-region":
                d.WriteDesc(a, SplitRingDriver.RegionCGpa - 100, 200, dir);
                break;
            case "crossing-region-end-into-a-hole":
                d.WriteDesc(a, buf, 12, next, b);
                d.WriteDesc(b, SplitRingDriver.RegionBGpa + SplitRingDriver.RegionBSize - 10, 20, dir);
                break;
            case "address-wrapping-2-pow-64":
                d.WriteDesc(a, 0xFFFF_FFFF_FFFF_FF00, 0x200, dir);
                break;
            case "lengths-overflowing-u32":
                d.WriteDesc(a, buf, 2048, next, b); // holds a small packet whole: the rest of the chain is still checked
                d.WriteDesc(b, Unmapped, 0xFFFF_FFFF, dir);
                break;
            case "wrong-direction":
                d.WriteDesc(a, buf, 100, next, b);
                d.WriteDesc(b, buf + 100, 100, wrong);
                break;
            case "shorter-than-header":
                d.WriteDesc(a, buf, 4, next, b);
                d.WriteDesc(b, buf + 4, 4, dir);
                break;
            case "all-zero-length":
                d.WriteDesc(a, Unmapped, 0, next, b);
                d.WriteDesc(b, Unmapped, 0, dir);
                break;
            case "header-only":
                d.WriteDesc(a, buf, (uint)d.HeaderSize, dir);
                break;
            case "longer-than-64-KiB":
                d.WriteDesc(a, d.AllocBuffer(40000), 40000, next, b);
                d.WriteDesc(b, d.AllocBuffer(40000), 40000, dir);
                break;
            default:
                throw new ArgumentException(kind);
        }

        d.Track(a, [.. descs]);
        if (head != a)
        {
            d.Track(head < d.Size ? head : a, [.. descs]);
        }

        d.PushAvail(head);
        return head;
    }

    private static ulong FeaturesFor(string kind, ulong extra = 0) => V1 | extra | (kind == "indirect-not-negotiated" ? 0 : Indirect);

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(TxOnlyCases))]
    public void Transmit_chain_fault_costs_only_that_chain(string kind, VhostQueueFault expected)
    {
        using var driver = new SplitRingDriver(256, FeaturesFor(kind));
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] before = SplitPackets.Frame(300, 1), after = SplitPackets.Frame(1500, 2);
        ushort h0 = driver.PostTx(SplitPackets.WithHeader(12, before), 12, int.MaxValue);
        ushort bad = PostBad(driver, kind, rx: false);
        ushort h2 = driver.PostTx(SplitPackets.WithHeader(12, after), 12, int.MaxValue);

        List<byte[]> got = SplitTxTests.DequeueBytes(queue, driver.Pool);

        Assert.Equal([before, after], got);
        Assert.Equal(1, queue.Stats.Faults);
        Assert.Equal(expected, queue.Stats.LastFault);
        Assert.Equal(2, queue.Stats.Packets);
        Assert.False(queue.IsBroken);
        Assert.Equal([(h0, 0u), (bad, 0u), (h2, 0u)], driver.PopUsed());
        Assert.Equal(3u, queue.GetBase());
        SplitTxTests.AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Receive_chain_fault_costs_only_that_chain(string kind, VhostQueueFault expected)
    {
        using var driver = new SplitRingDriver(256, FeaturesFor(kind));
        SplitVhostQueue queue = driver.CreateQueue();
        ushort h0 = driver.PostRx(2048);
        ushort bad = PostBad(driver, kind, rx: true);
        ushort h2 = driver.PostRx(2048);
        byte[] first = SplitPackets.Frame(300, 1), second = SplitPackets.Frame(1500, 2);

        Assert.Equal(2, SplitRxTests.Enqueue(driver, queue, first, second));

        Assert.Equal(1, queue.Stats.Faults);
        Assert.Equal(expected, queue.Stats.LastFault);
        Assert.Equal(2, queue.Stats.Packets);
        Assert.Equal(0, queue.Stats.Dropped);
        Assert.Equal(driver.ReadChain(h2, 12 + 1500)[12..], second);
        Assert.Equal(driver.ReadChain(h0, 12 + 300)[12..], first);
        Assert.Equal([(h0, 312u), (bad, 0u), (h2, 1512u)], driver.PopUsed());
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void A_fault_in_the_middle_of_merged_buffers_returns_them_empty_and_the_packet_starts_again()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg | Indirect);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort h1 = driver.PostRx(1536);
        ushort bad = PostBad(driver, "wrong-direction", rx: true);
        var good = new List<ushort>();
        for (int i = 0; i < 8; i++)
        {
            good.Add(driver.PostRx(1536));
        }

        byte[] frame = SplitPackets.Frame(9000, 3);
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, frame));
        Assert.Equal(VhostQueueFault.WrongDirection, queue.Stats.LastFault);
        Assert.Equal(1, queue.Stats.Faults);

        var used = new Queue<(uint Id, uint Len)>();
        for (ushort i = driver.LastUsed; i != driver.UsedIdx; i++)
        {
            used.Enqueue(driver.UsedElem(i));
        }

        Assert.Equal((h1, 0u), used.Dequeue());
        Assert.Equal((bad, 0u), used.Dequeue());
        Assert.Equal(good[0], (ushort)used.Peek().Id);
        (VirtioNetHeader header, byte[] got) = SplitRxTests.Receive(driver, used);
        Assert.Equal(6, header.NumBuffers);
        Assert.Equal(frame, got);
        Assert.Empty(used);
    }

    [Fact]
    public void Without_merged_buffers_a_read_only_descriptor_after_the_packet_is_still_a_fault()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        ushort bad = PostBad(driver, "wrong-direction", rx: true); // 100 writable bytes, then a read-only one
        ushort good = driver.PostRx(2048);
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(60, 1)));
        Assert.Equal(VhostQueueFault.WrongDirection, queue.Stats.LastFault);
        Assert.Equal([(bad, 0u), (good, 72u)], driver.PopUsed());
    }

    [Fact]
    public void A_ring_full_of_loops_costs_a_burst_at_most_one_walk_per_slot()
    {
        using var driver = new SplitRingDriver(256, V1 | Indirect);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 100; i++)
        {
            PostBad(driver, i % 2 == 0 ? "self-loop" : "indirect-loop", rx: false);
        }

        var packets = new Mbuf[32];
        Assert.Equal(0, queue.Dequeue(driver.Pool, packets));
        Assert.Equal(32, queue.Stats.Faults);
        Assert.Equal(32u, queue.GetBase());
        Assert.Equal(32, driver.PopUsed().Count);
        Assert.Equal(0, queue.Dequeue(driver.Pool, packets));
        Assert.Equal(64, queue.Stats.Faults);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void Enqueue_stops_after_stepping_over_as_many_malformed_chains_as_the_burst_has_packets()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 100; i++)
        {
            PostBad(driver, "self-loop", rx: true);
        }

        // Three packets may step over three malformed chains; the fourth stops the call.
        Assert.Equal(0, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 1), SplitPackets.Frame(64, 2), SplitPackets.Frame(64, 3)));
        Assert.Equal(4, queue.Stats.Faults);
        Assert.Equal(3, queue.Stats.Dropped);
        Assert.Equal(4u, queue.GetBase());
        Assert.All(driver.PopUsed(), u => Assert.Equal(0u, u.Len));
    }

    // ---- avail index jumps ----

    [Theory]
    [InlineData(0, 257)]        // one more than the ring
    [InlineData(0, 0xFFFF)]     // backwards by one
    [InlineData(65530, 65530 + 300)]
    public void An_avail_index_jump_breaks_the_queue_for_good(int baseIndex, int availIdx)
    {
        using var driver = new SplitRingDriver(256, V1, baseIndex: (uint)baseIndex);
        SplitVhostQueue queue = driver.CreateQueue();
        driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(100, 1)), int.MaxValue);
        driver.SetAvailIdx((ushort)availIdx);

        Assert.Empty(SplitTxTests.DequeueBytes(queue, driver.Pool));
        Assert.True(queue.IsBroken);
        Assert.Equal(1, queue.Stats.Broken);
        Assert.Equal(VhostQueueFault.AvailIndexJump, queue.Stats.LastFault);
        Assert.Equal((ushort)availIdx, queue.Stats.LastFaultIndex);
        Assert.Equal((uint)baseIndex, queue.GetBase());

        // Even once the index looks sane again, the queue stays stopped (the session drops the connection).
        driver.SetAvailIdx((ushort)(baseIndex + 1));
        Assert.Empty(SplitTxTests.DequeueBytes(queue, driver.Pool));
        Assert.Equal(0, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 1)));
        Assert.Equal(1, queue.Stats.Broken);
        Assert.Equal(0, driver.UsedIdx - (ushort)baseIndex);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void An_avail_index_jump_on_a_receive_queue_breaks_it()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        driver.SetAvailIdx(1000);
        Assert.Equal(0, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 1)));
        Assert.True(queue.IsBroken);
        Assert.Equal(VhostQueueFault.AvailIndexJump, queue.Stats.LastFault);
        Assert.Equal(1, queue.Stats.Dropped);
    }

    [Fact]
    public void A_full_ring_is_not_a_jump()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 256; i++)
        {
            driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(64, i)), int.MaxValue);
        }

        int total = 0;
        for (int i = 0; i < 8; i++)
        {
            total += SplitTxTests.DequeueBytes(queue, driver.Pool, 32).Count;
        }

        Assert.Equal(256, total);
        Assert.False(queue.IsBroken);
        SplitTxTests.AssertNoLeak(driver);
    }

    // ---- a guest rewriting descriptors while we read them (VU-12) ----

    [Fact]
    public async Task A_guest_scribbling_on_the_ring_concurrently_never_crashes_the_backend()
    {
        using var driver = new SplitRingDriver(64, V1 | Indirect);
        SplitVhostQueue txQueue = driver.CreateQueue();
        using var stop = new CancellationTokenSource();
        var random = new Random(42);
        ulong[] hostile = [0, 16, 0xFFFF_FFFF, 0x8000_0000_0000_0000, SplitRingDriver.BufferAreaGpa, SplitRingDriver.RegionCGpa - 8, 0x7, 0x1_0000];

        // The driver posts good chains; the scribbler keeps rewriting random descriptor and avail-ring bytes with
        // hostile values. Every dequeue must end in packets or counted faults, never in a crash or a hang.
        long scribbles = 0;
        Task scribbler = Task.Run(() =>
        {
            var r = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref scribbles);
                int desc = r.Next(64);
                Span<byte> d = driver.At(SplitRingDriver.DescGpa + (ulong)(desc * 16), 16);
                switch (r.Next(4))
                {
                    case 0:
                        BitConverter.TryWriteBytes(d, hostile[r.Next(hostile.Length)]);
                        break;
                    case 1:
                        BitConverter.TryWriteBytes(d[8..], (uint)hostile[r.Next(hostile.Length)]);
                        break;
                    case 2:
                        BitConverter.TryWriteBytes(d[12..], (ushort)r.Next(8));
                        break;
                    default:
                        BitConverter.TryWriteBytes(d[14..], (ushort)r.Next(80));
                        break;
                }
            }
        });

        SpinWait.SpinUntil(() => Interlocked.Read(ref scribbles) > 0, TimeSpan.FromSeconds(10));
        var packets = new Mbuf[32];
        long dequeued = 0;
        for (int round = 0; round < 2000; round++)
        {
            while (driver.FreeDescriptors >= 2 && (ushort)(driver.AvailIdx - driver.LastUsed) < 60)
            {
                driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(64 + random.Next(1400), round)), 12, int.MaxValue);
            }

            int n = txQueue.Dequeue(driver.Pool, packets);
            dequeued += n;
            foreach (Mbuf m in packets.AsSpan(0, n))
            {
                Assert.Null(m.Validate());
            }

            Mbuf.FreeBulk(packets.AsSpan(0, n));
            driver.PopUsed();
            if (txQueue.IsBroken)
            {
                break;
            }
        }

        await stop.CancelAsync();
        await scribbler;
        Assert.True(Interlocked.Read(ref scribbles) > 0);
        Assert.False(txQueue.IsBroken); // the scribbler never touches avail->idx
        Assert.Equal(txQueue.Stats.Packets, dequeued);
        Assert.Equal(txQueue.GetBase(), (uint)(ushort)(txQueue.Stats.Packets + txQueue.Stats.Faults)); // every head: a packet or a fault
        SplitTxTests.AssertNoLeak(driver);
    }
}
