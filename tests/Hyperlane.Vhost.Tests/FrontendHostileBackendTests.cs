using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Frontend;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A backend we do not trust either (DESIGN.md): used ids out of range or not in flight, lengths past the buffer,
/// num_buffers 0 or huge, a used index that jumps. The frontend never crashes, counts each, recovers what it can,
/// keeps delivering good packets, and leaks no mbuf (mempool audit after the queue is disposed).
/// </summary>
public class FrontendHostileBackendTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bad_receive_entries_are_counted_skipped_and_recovered(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, Mrg, size: 32);
        List<FrontendDeviceBuffer> posted = bench.PopAll();
        var good = new List<byte[]>();
        int b = 0;

        void Good(int length)
        {
            byte[] frame = Frame(length, good.Count);
            good.Add(frame);
            FrontendDeviceBuffer buffer = posted[b++];
            bench.Use(buffer, bench.WriteRx(buffer, frame, 1));
        }

        Good(64);
        FrontendDeviceBuffer longer = posted[b++];
        bench.WriteRx(longer, Frame(64, 99), 1);
        bench.Use(longer, 5000);                                   // len > the 2060-byte buffer
        Good(70);
        FrontendDeviceBuffer shorter = posted[b++];
        bench.Use(shorter, 5);                                     // shorter than the header
        FrontendDeviceBuffer zero = posted[b++];
        bench.Use(zero, bench.WriteRx(zero, Frame(64, 98), numBuffers: 0));
        FrontendDeviceBuffer huge = posted[b++];
        bench.Use(huge, bench.WriteRx(huge, Frame(64, 97), numBuffers: 0xFFFF));
        FrontendDeviceBuffer many = posted[b++];
        bench.Use(many, bench.WriteRx(many, Frame(64, 96), numBuffers: 33)); // more than the ring holds in flight
        Good(80);

        // A merged packet whose second buffer claims more than it holds: the whole packet goes.
        FrontendDeviceBuffer m0 = posted[b++], m1 = posted[b++], m2 = posted[b++];
        bench.Use(m0, bench.WriteRx(m0, Frame(2048, 95), numBuffers: 3));
        bench.Use(m1, 9999);
        bench.Use(m2, bench.WriteRaw(m2, Frame(100, 94)));
        Good(90);

        var packets = new Mbuf[32];
        int n = bench.Queue.Receive(packets);
        Assert.Equal(good.Count, n);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(good[i], Bytes(packets[i]));
        }

        Mbuf.FreeBulk(packets.AsSpan(0, n));
        Assert.Equal(6, bench.Stats.Faults);
        Assert.Equal(6, bench.Stats.Dropped);
        Assert.False(bench.Queue.IsBroken);

        // Ids the driver does not have in flight: out of range, and one used twice in the same burst.
        if (packed)
        {
            bench.PackedDevice!.Use(0xFFFF, 64, 1);   // recovered: the buffer made available at that slot
            b++;
        }
        else
        {
            bench.SplitDevice!.Use(0x1_0000, 64);      // skipped: which buffer it meant cannot be told
        }

        Good(100);
        bench.Use(posted[b - 1].Id, 64, 1);
        n = bench.Queue.Receive(packets);
        Assert.Equal(1, n);
        Assert.Equal(good[^1], Bytes(packets[0]));
        packets[0].Free();
        Assert.Equal(8, bench.Stats.Faults);
        Assert.Equal(DriverQueueFault.UsedIdNotInFlight, bench.Stats.LastFault);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Bad_transmit_completions_are_counted_and_the_queue_goes_on(bool packed, bool inOrder)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, inOrder ? InOrder : 0, size: 16);
        Mbuf[] packets = [.. Enumerable.Range(0, 4).Select(i => Packet(bench.Pool, Frame(64, i)))];
        Assert.Equal(4, bench.Queue.Transmit(packets));
        List<FrontendDeviceBuffer> buffers = bench.PopAll();

        bench.Use(0xFFFF, 0, 1);          // id out of range
        bench.Use(buffers[1], 0);         // fine (out of order unless in order)
        bench.Use(buffers[1], 0);         // again: no longer in flight
        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.True(bench.Stats.Faults >= 2);
        Assert.False(bench.Queue.IsBroken);

        // Whatever was not completed stays in flight (freed at dispose); more traffic still flows.
        Assert.True(bench.Queue.InFlight is >= 1 and <= 3);
        Mbuf[] more = [.. Enumerable.Range(0, 4).Select(i => Packet(bench.Pool, Frame(64, 10 + i)))];
        Assert.Equal(4, bench.Queue.Transmit(more));
        Assert.Equal(4, bench.PopAll().Count);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(DriverQueueRole.Receive)]
    [InlineData(DriverQueueRole.Transmit)]
    public void A_split_used_index_jump_breaks_the_queue_until_reset(DriverQueueRole role)
    {
        using var bench = new FrontendQueueBench(false, role, Mrg, size: 16);
        if (role == DriverQueueRole.Transmit)
        {
            Assert.Equal(2, bench.Queue.Transmit([Packet(bench.Pool, Frame(64, 1)), Packet(bench.Pool, Frame(64, 2))]));
        }

        FrontendSplitDevice device = bench.SplitDevice!;
        device.PublishUsed(1000); // far more than outstanding
        var packets = new Mbuf[8];
        Assert.Equal(0, role == DriverQueueRole.Receive ? bench.Queue.Receive(packets) : bench.Queue.Transmit([]));
        Assert.True(bench.Queue.IsBroken);
        Assert.Equal(DriverQueueFault.UsedIndexJump, bench.Stats.LastFault);
        Assert.Equal(1, bench.Stats.Broken);

        // Broken: nothing more is read from the ring, nothing more is posted.
        Mbuf extra = Packet(bench.Pool, Frame(64, 3));
        Assert.Equal(0, bench.Queue.Transmit([extra]));
        extra.Free();

        Assert.True(bench.Queue.Stop(TimeSpan.FromSeconds(1)));
        bench.Queue.Reset();
        Assert.False(bench.Queue.IsBroken);
        AssertNoLeak(bench.Pool); // everything in flight went back at the reset
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void A_packed_used_descriptor_nobody_can_account_for_breaks_the_queue_until_reset()
    {
        using var bench = new FrontendQueueBench(true, DriverQueueRole.Transmit, 0, size: 16);
        Mbuf chain = Chained(bench.Pool, Frame(300, 1), 100);  // 3 descriptors: slots 0-2
        Mbuf single = Packet(bench.Pool, Frame(64, 2));         // slot 3
        Assert.Equal(2, bench.Queue.Transmit([chain, single]));
        List<FrontendDeviceBuffer> buffers = bench.PopAll();

        FrontendPackedDevice device = bench.PackedDevice!;
        device.Use(buffers[1].Id, 0, 1);   // out of order but valid: the single one, written at slot 0
        device.Use(0xFFFF, 0, 1);          // slot 1: middle of the chain, bad id, nothing was made available there
        Assert.Equal(0, bench.Queue.Transmit([]));
        Assert.True(bench.Queue.IsBroken);
        Assert.Equal(DriverQueueFault.UsedWithoutBuffer, bench.Stats.LastFault);
        Assert.Equal(1, bench.Queue.InFlight);

        Assert.True(bench.Queue.Stop(TimeSpan.FromSeconds(1)));
        bench.Queue.Reset();
        AssertNoLeak(bench.Pool);
        bench.DisposeAndAssertNoLeak();
    }

    [Fact]
    public void Hostile_values_through_a_real_connection_do_not_crash_the_frontend()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket);
        using (var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { QueueSize = 64 }, pool))
        {
            backend.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
            FrontendSplitDevice rx = backend.SplitDevice(0);
            var rng = new Random(1234);
            var packets = new Mbuf[64];
            for (int round = 0; round < 2000; round++)
            {
                // Random garbage in the used ring, with an index that moves by a plausible amount.
                ushort count = (ushort)rng.Next(1, 4);
                for (int i = 0; i < count; i++)
                {
                    rx.WriteUsed((ushort)(rx.UsedIdx + i), (uint)rng.Next(0, 300), (uint)rng.Next(0, 70000));
                }

                rx.UsedIdx += count;
                rx.PublishUsed(rx.UsedIdx);
                int n = frontend.Receive(0, packets);
                Mbuf.FreeBulk(packets.AsSpan(0, n));
                if (frontend.RxQueue(0).IsBroken)
                {
                    break;
                }
            }

            Assert.True(frontend.RxQueue(0).Stats.Faults > 0);
        }

        AssertNoLeak(pool);
    }
}
