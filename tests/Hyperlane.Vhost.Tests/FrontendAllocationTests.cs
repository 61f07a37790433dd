using Hyperlane.Memory;
using Hyperlane.Vhost.Frontend;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// DESIGN.md "Code habits": nothing a burst reaches allocates. Measured with an <see cref="AllocationProbe"/> around
/// the queue calls only (they run on its thread; the test's device side allocates freely on the test thread), over more than 100 000 packets, after a warm-up
/// so tiered compilation has settled. Fault paths (a duplicate completion, a bad length) run inside the measured calls.
/// </summary>
public class FrontendAllocationTests
{
    private const int Burst = 32;
    private const int WarmupRounds = 300;
    private const int MeasuredPackets = 110_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Transmit_allocates_nothing(bool packed)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Transmit, InOrder, size: 256, poolSize: 4096);
        byte[] small = Frame(64, 1);
        byte[] large = Frame(1500, 2);
        var packets = new Mbuf[Burst];
        long measured = 0;
        int n = 0;
        using var probe = new AllocationProbe(); // the queue calls run on a thread that allocates nothing else
        Action transmit = () => n = bench.Queue.Transmit(packets);
        for (int round = 0; measured < MeasuredPackets; round++)
        {
            if (round == WarmupRounds)
            {
                probe.Reset();
            }

            for (int i = 0; i < Burst; i++)
            {
                packets[i] = (i & 7) == 3 ? Chained(bench.Pool, large, 600) : Packet(bench.Pool, (i & 1) == 0 ? small : large);
                if (i == 9)
                {
                    packets[i].AddReferences(1); // shared: header in its own descriptor
                }
            }

            probe.Measure(transmit);
            Assert.Equal(Burst, n);
            packets[9].Free(); // our extra reference

            List<FrontendDeviceBuffer> buffers = bench.PopAll();
            for (int i = 0; i < buffers.Count; i++)
            {
                if (i == buffers.Count - 1 && round % 8 == 5)
                {
                    // The last completion names a buffer already completed: counted, and in order the oldest is recovered.
                    bench.Use(buffers[0].Id, 0, buffers[i].Descs.Count);
                }
                else
                {
                    bench.Use(buffers[i], 0);
                }
            }

            if (round >= WarmupRounds)
            {
                measured += n;
            }
        }

        int none = -1;
        Action reclaim = () => none = bench.Queue.Transmit([]); // reclaims the last burst
        probe.Measure(reclaim);
        Assert.Equal(0, none);
        Assert.Equal(0, probe.Allocated);
        Assert.True(bench.Stats.Faults > 400);
        Assert.Equal(0, bench.Queue.InFlight);
        bench.DisposeAndAssertNoLeak();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Receive_allocates_nothing(bool packed, bool mergeable)
    {
        using var bench = new FrontendQueueBench(packed, DriverQueueRole.Receive, mergeable ? Mrg : 0, size: 256, poolSize: 4096);
        byte[] small = Frame(64, 1);
        byte[] large = Frame(1500, 2);
        byte[] jumbo = Frame(4000, 3);
        var available = new Queue<FrontendDeviceBuffer>(bench.PopAll());
        var packets = new Mbuf[Burst];
        long measured = 0;
        int n = 0;
        using var probe = new AllocationProbe(); // the queue calls run on a thread that allocates nothing else
        Action receive = () =>
        {
            n = bench.Queue.Receive(packets);
            Mbuf.FreeBulk(packets.AsSpan(0, n));
        };
        for (int round = 0; measured < MeasuredPackets; round++)
        {
            if (round == WarmupRounds)
            {
                probe.Reset();
            }

            int expected = 0;
            for (int i = 0; i < Burst; i++)
            {
                FrontendDeviceBuffer b = available.Dequeue();
                if (i == 17)
                {
                    bench.Use(b, 99_999); // a length past the buffer: counted, recovered
                    continue;
                }

                if (mergeable && i == 5)
                {
                    FrontendDeviceBuffer second = available.Dequeue();
                    uint first = bench.WriteRx(b, jumbo.AsSpan(0, 2048), 2);
                    uint rest = bench.WriteRaw(second, jumbo.AsSpan(2048));
                    bench.Use(b, first);
                    bench.Use(second, rest);
                }
                else
                {
                    bench.Use(b, bench.WriteRx(b, (i & 1) == 0 ? small : large, 1));
                }

                expected++;
            }

            probe.Measure(receive);
            Assert.Equal(expected, n);
            foreach (FrontendDeviceBuffer b in bench.PopAll())
            {
                available.Enqueue(b);
            }

            if (round >= WarmupRounds)
            {
                measured += n;
            }
        }

        Assert.Equal(0, probe.Allocated);
        Assert.True(bench.Stats.Faults > 3000);
        bench.DisposeAndAssertNoLeak();
    }
}
