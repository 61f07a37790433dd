using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// DESIGN.md "Code habits": nothing a burst reaches allocates. Every queue call runs on a <see cref="AllocationProbe"/>
/// thread that counts the bytes it allocates; the fake guest (on the test thread) allocates freely. The bursts mix
/// direct and indirect chains, merged buffers, EVENT_IDX interrupts through an eventfd, dirty logging and one
/// malformed chain per burst, so the fault path is measured too.
/// </summary>
public class SplitAllocationTests
{
    private const ulong Features = SplitTxTests.V1 | SplitTxTests.Mrg | SplitTxTests.Indirect | (1UL << VirtioFeatures.RingEventIdx);
    private const int Burst = 32;
    private const int WarmUpRounds = 300;

    [Fact]
    public void Dequeue_allocates_nothing_over_100k_packets()
    {
        using var driver = new SplitRingDriver(256, Features, log: true, call: true);
        using var probe = new AllocationProbe();
        SplitVhostQueue queue = driver.CreateQueue();
        byte[][] chains = [.. new[] { 60, 1514, 4000, 9000 }.Select(n => SplitPackets.WithHeader(12, SplitPackets.Frame(n, n)))];
        var packets = new Mbuf[Burst];
        int got = 0;
        Action dequeue = () =>
        {
            got = queue.Dequeue(driver.Pool, packets);
            Mbuf.FreeBulk(packets.AsSpan(0, got));
        };

        long measured = 0;
        for (int round = 0; measured < 110_000; round++)
        {
            if (round == WarmUpRounds)
            {
                probe.Reset(); // tiered JIT has settled; from here on every byte counts
            }

            for (int i = 0; i < Burst; i++)
            {
                byte[] chain = chains[(round + i) & 3];
                if ((i & 15) == 7)
                {
                    driver.PostTxIndirect(chain, 12, 700, int.MaxValue);
                }
                else if (i == 20)
                {
                    ushort d = driver.AllocDesc(); // unmapped: AddressNotMapped
                    driver.WriteDesc(d, 0xDEAD_0000_0000, 100, VirtqDescFlags.None);
                    driver.Track(d, [d]);
                    driver.PushAvail(d);
                }
                else
                {
                    driver.PostTx(chain, 12, 1000, int.MaxValue);
                }
            }

            probe.Measure(dequeue);
            Assert.Equal(Burst - 1, got);
            if (round >= WarmUpRounds)
            {
                measured += got;
            }

            driver.PopUsed();
            driver.TakeInterrupts();
        }

        Assert.Equal(0, probe.Allocated);
        Assert.True(probe.Runs > 3000);
        Assert.True(queue.Stats.Faults > 3000);
        Assert.True(queue.Stats.GuestNotifications > 0);
        SplitTxTests.AssertNoLeak(driver);
    }

    [Fact]
    public void Enqueue_allocates_nothing_over_100k_packets()
    {
        using var driver = new SplitRingDriver(256, Features, log: true, call: true);
        using var probe = new AllocationProbe();
        SplitVhostQueue queue = driver.CreateQueue();
        var packets = new Mbuf[Burst];
        for (int i = 0; i < Burst; i++)
        {
            packets[i] = LabFrames.ToMbuf(driver.Pool, SplitPackets.Frame(new[] { 60, 1514, 4000, 9000 }[i & 3], i));
        }

        int delivered = 0;
        Action enqueue = () => delivered = queue.Enqueue(packets);
        long measured = 0;
        for (int round = 0; measured < 110_000; round++)
        {
            if (round == WarmUpRounds)
            {
                probe.Reset();
            }

            while (driver.FreeDescriptors > 8 && (ushort)(driver.AvailIdx - driver.LastUsed) < 200)
            {
                if ((driver.AvailIdx & 31) == 5)
                {
                    ushort d = driver.AllocDesc(); // read-only in a receive queue: WrongDirection
                    driver.WriteDesc(d, SplitRingDriver.BufferAreaGpa, 2048, VirtqDescFlags.None);
                    driver.Track(d, [d]);
                    driver.PushAvail(d);
                }
                else if ((driver.AvailIdx & 7) == 3)
                {
                    driver.PostRxIndirect(1000, 1000);
                }
                else
                {
                    driver.PostRx(1536);
                }
            }

            probe.Measure(enqueue);
            Assert.True(delivered > 0);
            if (round >= WarmUpRounds)
            {
                measured += delivered;
            }

            driver.PopUsed();
            driver.TakeInterrupts();
        }

        Mbuf.FreeBulk(packets);
        Assert.Equal(0, probe.Allocated);
        Assert.True(queue.Stats.Faults > 1000);
        SplitTxTests.AssertNoLeak(driver);
    }
}
