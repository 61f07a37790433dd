using System.Collections.Concurrent;
using System.Diagnostics;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// Producers and consumers on separate threads. The machine may have only 2 cores: the MP/MC cases
/// oversubscribe it on purpose, so that threads are preempted while holding a reservation.
/// Every run has a deadline: a bug fails the test instead of hanging it. The rings are disposed only
/// when a test passes: a thread stuck in the ring must not read freed memory (the finalizer frees it
/// once nothing references the ring).
/// </summary>
[Collection(RingConcurrencyCollection.Name)]
public class RingConcurrencyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public void Spsc_two_threads_keep_exact_order()
    {
        const int N = 2_000_000;
        var ring = new Ring<ulong>("spsc", 1024, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        var errors = new ConcurrentQueue<string>();
        var run = new RunControl();
        long received = 0;

        var producer = new Thread(() =>
        {
            run.WaitForStart();
            var random = new Random(11);
            var buffer = new ulong[64];
            int idle = 0;
            ulong seq = 0;
            while (seq < N && !run.IsStopped)
            {
                int n = (int)Math.Min((ulong)random.Next(1, 65), N - seq);
                for (int i = 0; i < n; i++)
                {
                    buffer[i] = seq + (ulong)i;
                }

                int sent = random.Next(2) == 0 ? ring.EnqueueBulk(buffer.AsSpan(0, n)) : ring.EnqueueBurst(buffer.AsSpan(0, n));
                seq += (ulong)sent;
                Backoff(sent, ref idle);
            }
        });

        var consumer = new Thread(() =>
        {
            run.WaitForStart();
            var random = new Random(12);
            var buffer = new ulong[64];
            int idle = 0;
            ulong expected = 0;
            while (expected < N && !run.IsStopped)
            {
                int n = random.Next(1, 65);
                int got = random.Next(2) == 0 ? ring.DequeueBulk(buffer.AsSpan(0, n)) : ring.DequeueBurst(buffer.AsSpan(0, n));
                for (int i = 0; i < got; i++)
                {
                    if (buffer[i] != expected)
                    {
                        errors.Enqueue($"expected {expected}, got {buffer[i]}");
                        run.Stop();
                        return;
                    }

                    expected++;
                }

                Backoff(got, ref idle);
            }

            Interlocked.Exchange(ref received, (long)expected);
        });

        RunThreads(run, [producer, consumer]);
        Assert.Empty(errors);
        Assert.Equal(N, Interlocked.Read(ref received));
        Assert.True(ring.IsEmpty);
        ring.Dispose();
    }

    [Fact]
    public void Mpmc_4_producers_4_consumers_on_a_small_ring() =>
        RunTagged(RingFlags.None, producers: 4, consumers: 4, perProducer: 200_000, capacity: 64);

    [Fact]
    public void Mpsc_3_producers_1_consumer() =>
        RunTagged(RingFlags.SingleConsumer, producers: 3, consumers: 1, perProducer: 300_000, capacity: 64);

    [Fact]
    public void Spmc_1_producer_3_consumers() =>
        RunTagged(RingFlags.SingleProducer, producers: 1, consumers: 3, perProducer: 1_000_000, capacity: 64);

    [Fact]
    public void Mpmc_single_item_operations() =>
        RunTagged(RingFlags.None, producers: 2, consumers: 2, perProducer: 200_000, capacity: 8, singleItems: true);

    /// <summary>
    /// Two producers (one per core of a 2-core machine) race on the producer head and tail of a ring
    /// large enough for everything; a single thread then checks what is in it.
    /// </summary>
    [Fact]
    public void Mp_two_producers_race_into_a_large_ring()
    {
        const int PerProducer = 200_000;
        const int Shift = 40;
        var ring = new Ring<ulong>("mp-race", 2 * PerProducer, RingFlags.SingleConsumer);
        var run = new RunControl();
        var threads = new List<Thread>();
        for (int p = 0; p < 2; p++)
        {
            int id = p;
            threads.Add(new Thread(() =>
            {
                run.WaitForStart();
                var random = new Random(300 + id);
                var buffer = new ulong[16];
                int seq = 0;
                while (seq < PerProducer && !run.IsStopped)
                {
                    int n = Math.Min(random.Next(1, 17), PerProducer - seq);
                    for (int i = 0; i < n; i++)
                    {
                        buffer[i] = ((ulong)id << Shift) | (uint)(seq + i);
                    }

                    seq += n == 1 ? (ring.TryEnqueue(buffer[0]) ? 1 : 0) : ring.EnqueueBulk(buffer.AsSpan(0, n));
                }
            }));
        }

        RunThreads(run, threads);
        Assert.Equal(2 * PerProducer, ring.Count);
        var all = new ulong[2 * PerProducer];
        Assert.Equal(all.Length, ring.DequeueBulk(all));
        var next = new int[2];
        foreach (ulong item in all)
        {
            int producer = (int)(item >> Shift);
            Assert.True(producer < 2, $"invented item 0x{item:X}");
            Assert.Equal((ulong)next[producer], item & ((1ul << Shift) - 1));
            next[producer]++;
        }
        ring.Dispose();
    }

    /// <summary>Two consumers race on the consumer head and tail of a full ring; each item comes out once, in order per consumer.</summary>
    [Fact]
    public void Mc_two_consumers_race_out_of_a_large_ring()
    {
        const int Total = 400_000;
        var ring = new Ring<ulong>("mc-race", Total, RingFlags.SingleProducer);
        var fill = new ulong[Total];
        for (int i = 0; i < Total; i++)
        {
            fill[i] = (ulong)i;
        }

        Assert.Equal(Total, ring.EnqueueBulk(fill));
        var run = new RunControl();
        var logs = new List<ulong>[2];
        var threads = new List<Thread>();
        for (int c = 0; c < 2; c++)
        {
            int id = c;
            logs[id] = new List<ulong>(Total);
            threads.Add(new Thread(() =>
            {
                run.WaitForStart();
                var random = new Random(400 + id);
                var buffer = new ulong[16];
                while (!run.IsStopped)
                {
                    int n = random.Next(1, 17);
                    int got = random.Next(3) switch
                    {
                        0 => ring.TryDequeue(out buffer[0]) ? 1 : 0,
                        1 => ring.DequeueBulk(buffer.AsSpan(0, n)),
                        _ => ring.DequeueBurst(buffer.AsSpan(0, n)),
                    };
                    if (got == 0 && ring.IsEmpty)
                    {
                        break;
                    }

                    for (int i = 0; i < got; i++)
                    {
                        logs[id].Add(buffer[i]);
                    }
                }
            }));
        }

        RunThreads(run, threads);
        var seen = new bool[Total];
        foreach (List<ulong> log in logs)
        {
            for (int i = 0; i < log.Count; i++)
            {
                Assert.True(log[i] < Total, $"invented item {log[i]}");
                Assert.False(seen[log[i]], $"item {log[i]} received twice");
                seen[log[i]] = true;
                if (i > 0)
                {
                    Assert.True(log[i] > log[i - 1], $"out of order: {log[i]} after {log[i - 1]}");
                }
            }
        }

        Assert.Equal(Total, logs[0].Count + logs[1].Count);
        ring.Dispose();
    }

    /// <summary>
    /// Each producer sends <c>id &lt;&lt; 40 | seq</c> for seq = 0..perProducer-1 with random bulk and
    /// burst sizes; each consumer logs what it receives. Afterwards: every item arrived exactly once,
    /// nothing was invented, and each consumer saw each producer's sequence numbers increasing.
    /// </summary>
    private static void RunTagged(RingFlags flags, int producers, int consumers, int perProducer, int capacity, bool singleItems = false)
    {
        const int Shift = 40;
        long total = (long)producers * perProducer;
        var ring = new Ring<ulong>("tagged", capacity, flags);
        var run = new RunControl();
        var errors = new ConcurrentQueue<string>();
        long receivedTotal = 0;
        var logs = new ulong[consumers][];
        var logCounts = new int[consumers];
        var threads = new List<Thread>();

        for (int p = 0; p < producers; p++)
        {
            int id = p;
            threads.Add(new Thread(() =>
            {
                run.WaitForStart();
                var random = new Random(100 + id);
                var buffer = new ulong[64];
                int idle = 0;
                int seq = 0;
                while (seq < perProducer && !run.IsStopped)
                {
                    int sent;
                    if (singleItems)
                    {
                        sent = ring.TryEnqueue(((ulong)id << Shift) | (uint)seq) ? 1 : 0;
                    }
                    else
                    {
                        int n = Math.Min(random.Next(1, 65), perProducer - seq);
                        for (int i = 0; i < n; i++)
                        {
                            buffer[i] = ((ulong)id << Shift) | (uint)(seq + i);
                        }

                        bool bulk = random.Next(2) == 0;
                        sent = bulk ? ring.EnqueueBulk(buffer.AsSpan(0, n)) : ring.EnqueueBurst(buffer.AsSpan(0, n));
                        if (sent < 0 || sent > n || (bulk && sent != 0 && sent != n))
                        {
                            errors.Enqueue($"producer {id}: {(bulk ? "bulk" : "burst")} enqueue returned {sent} for {n}");
                            run.Stop();
                            break;
                        }
                    }

                    seq += sent;
                    Backoff(sent, ref idle);
                }
            }));
        }

        for (int c = 0; c < consumers; c++)
        {
            int id = c;
            logs[id] = new ulong[total];
            threads.Add(new Thread(() =>
            {
                run.WaitForStart();
                var random = new Random(200 + id);
                var buffer = new ulong[64];
                ulong[] log = logs[id];
                int count = 0;
                int idle = 0;
                while (Interlocked.Read(ref receivedTotal) < total && !run.IsStopped)
                {
                    int got;
                    if (singleItems)
                    {
                        got = ring.TryDequeue(out buffer[0]) ? 1 : 0;
                    }
                    else
                    {
                        int n = random.Next(1, 65);
                        bool bulk = random.Next(2) == 0;
                        got = bulk ? ring.DequeueBulk(buffer.AsSpan(0, n)) : ring.DequeueBurst(buffer.AsSpan(0, n));
                        if (got < 0 || got > n || (bulk && got != 0 && got != n))
                        {
                            errors.Enqueue($"consumer {id}: {(bulk ? "bulk" : "burst")} dequeue returned {got} for {n}");
                            run.Stop();
                            break;
                        }
                    }

                    if (count + got > log.Length)
                    {
                        errors.Enqueue($"consumer {id}: received more than the {total} items sent");
                        run.Stop();
                        break;
                    }

                    buffer.AsSpan(0, got).CopyTo(log.AsSpan(count));
                    count += got;
                    Interlocked.Add(ref receivedTotal, got);
                    Backoff(got, ref idle);
                }

                logCounts[id] = count;
            }));
        }

        RunThreads(run, threads);
        Assert.Empty(errors);
        Assert.Equal(total, Interlocked.Read(ref receivedTotal));

        var seen = new bool[producers, perProducer];
        for (int c = 0; c < consumers; c++)
        {
            var last = new long[producers];
            Array.Fill(last, -1);
            for (int i = 0; i < logCounts[c]; i++)
            {
                ulong item = logs[c][i];
                long producer = (long)(item >> Shift);
                long seq = (long)(item & ((1ul << Shift) - 1));
                Assert.True(producer < producers && seq < perProducer, $"consumer {c} received invented item 0x{item:X}");
                Assert.False(seen[producer, seq], $"item 0x{item:X} received twice");
                seen[producer, seq] = true;
                Assert.True(seq > last[producer], $"consumer {c}: producer {producer} seq {seq} after {last[producer]}");
                last[producer] = seq;
            }
        }

        Assert.Equal(total, logCounts.Sum(x => (long)x));
        Assert.True(ring.IsEmpty);
        Assert.Equal(0, ring.Count);
        ring.Dispose();
    }

    /// <summary>Starts the threads and joins them; past the deadline, tells them to stop and fails.</summary>
    private static void RunThreads(RunControl run, IReadOnlyList<Thread> threads)
    {
        run.Arm(threads.Count);
        foreach (Thread t in threads)
        {
            t.IsBackground = true;
            t.Start();
        }

        var clock = Stopwatch.StartNew();
        bool finished = true;
        foreach (Thread t in threads)
        {
            TimeSpan left = Deadline - clock.Elapsed;
            if (left < TimeSpan.Zero || !t.Join(left))
            {
                finished = false;
                break;
            }
        }

        if (!finished)
        {
            run.Stop();
            foreach (Thread t in threads)
            {
                t.Join(TimeSpan.FromSeconds(5));
            }

            Assert.Fail($"threads did not finish within {Deadline.TotalSeconds} s (lost, duplicated or stuck items?)");
        }
    }

    /// <summary>When a ring operation moved nothing, spins a little, then yields the CPU to the other side.</summary>
    private static void Backoff(int moved, ref int idle)
    {
        if (moved != 0)
        {
            idle = 0;
            return;
        }

        if (++idle < 16)
        {
            Thread.SpinWait(4);
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>
    /// Start barrier (no thread starts working before all are running, so they really overlap) and
    /// stop flag (for the deadline or a failure).
    /// </summary>
    private sealed class RunControl
    {
        private int _expected = int.MaxValue;
        private int _ready;
        private volatile bool _stopped;

        public bool IsStopped => _stopped;

        public void Arm(int threads) => Volatile.Write(ref _expected, threads);

        public void Stop() => _stopped = true;

        public void WaitForStart()
        {
            Interlocked.Increment(ref _ready);
            while (Volatile.Read(ref _ready) < Volatile.Read(ref _expected) && !_stopped)
            {
                Thread.Yield();
            }
        }
    }
}
