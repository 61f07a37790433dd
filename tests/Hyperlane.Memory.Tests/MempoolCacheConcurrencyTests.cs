using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// Per-lcore caches and the shared ring under load: several lcore threads allocating and freeing bursts,
/// mbufs allocated on one lcore and freed on another, and cacheless threads sharing the ring. The audit
/// must come back full, with no object handed to two threads and no double free.
/// </summary>
/// <remarks>
/// More threads than the machine has cores on purpose: preemption inside a ring reservation is what
/// exposes races. The worker threads report progress; a run fails when none is made for
/// <see cref="StallLimit"/> (a thread stuck for good), not after a fixed time, so a busy machine does not
/// make the tests flaky.
/// </remarks>
[Collection(MemorySerialCollection.Name)]
public unsafe class MempoolCacheConcurrencyTests
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public void LcoreId_is_per_thread_and_bounded()
    {
        Assert.Equal(-1, LcoreId.Current);
        Assert.Throws<ArgumentOutOfRangeException>(() => LcoreId.SetCurrent(-2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LcoreId.SetCurrent(LcoreId.MaxLcores));

        int seenOnOtherThread = 0;
        try
        {
            LcoreId.SetCurrent(LcoreId.MaxLcores - 1);
            Assert.Equal(LcoreId.MaxLcores - 1, LcoreId.Current);
            var t = new Thread(() => seenOnOtherThread = LcoreId.Current);
            t.Start();
            t.Join();
        }
        finally
        {
            LcoreId.SetCurrent(-1);
        }

        Assert.Equal(-1, seenOnOtherThread);
        Assert.Equal(-1, LcoreId.Current);
    }

    [Fact]
    public void Cached_objects_count_as_available_and_flush_returns_them_to_the_ring()
    {
        using var pool = Mempool.CreatePacketPool("cache-audit", 1024, cacheSize: 64, dataRoomSize: 256);
        MempoolAudit whileHeld = default;
        MempoolAudit afterFree = default;
        MempoolAudit afterFlush = default;
        Run(1, markLcores: true, (_, _) =>
        {
            var burst = new Mbuf[10];
            Assert.Equal(10, pool.AllocBulk(burst));
            whileHeld = pool.Audit();
            Mbuf.FreeBulk(burst);
            afterFree = pool.Audit();
            pool.FlushCurrentLcoreCache();
            afterFlush = pool.Audit();
        });

        Assert.Equal(10, whileHeld.InUse);
        Assert.True(whileHeld.InCaches > 0, whileHeld.ToString());
        Assert.Equal(0, afterFree.InUse);
        Assert.True(afterFree.InCaches >= 10, afterFree.ToString());
        Assert.Equal(new MempoolAudit(1024, 1024, 0, 0), afterFlush);
        Assert.Equal(new MempoolAudit(1024, 1024, 0, 0), pool.Audit());
    }

    [Fact]
    public void Lcore_threads_hammering_bursts_leak_nothing()
    {
        const int Threads = 4;
        const int Operations = 200_000; // AllocBulk or FreeBulk calls per thread
        using var pool = Mempool.CreatePacketPool("cache-hammer", 8192, cacheSize: 256, dataRoomSize: 256);
        var failedAllocs = new int[Threads];
        var duplicates = new int[Threads];
        var badState = new int[Threads];

        Run(Threads, markLcores: true, (index, progress) =>
        {
            var rng = new Random(1000 + index);
            var held = new Mbuf[512];
            int heldCount = 0;
            var burst = new Mbuf[64];
            ulong tag = (ulong)index + 1;

            for (int op = 0; op < Operations; op++)
            {
                Volatile.Write(ref progress[0], op);
                int n = rng.Next(1, 65);
                bool alloc = heldCount + n <= held.Length && (heldCount < 64 || rng.Next(2) == 0);
                if (alloc)
                {
                    Span<Mbuf> got = burst.AsSpan(0, n);
                    if (pool.AllocBulk(got) != n)
                    {
                        failedAllocs[index]++; // 4 x (512 held + 640 cached) < 8192: the pool cannot run dry
                        continue;
                    }

                    foreach (Mbuf m in got)
                    {
                        ref MbufHeader h = ref m.Header;
                        if (Interlocked.CompareExchange(ref h.UserData, tag, 0) != 0)
                        {
                            duplicates[index]++; // another thread holds this mbuf too
                        }

                        if ((h.RefCnt != 1) | (h.NbSegs != 1) | (h.Next != 0) | (h.PktLen != 0) | (h.DataOff != 128))
                        {
                            badState[index]++;
                        }

                        held[heldCount++] = m;
                    }
                }
                else
                {
                    n = Math.Min(n, heldCount);
                    Span<Mbuf> free = held.AsSpan(heldCount - n, n);
                    foreach (Mbuf m in free)
                    {
                        if (Interlocked.CompareExchange(ref m.Header.UserData, 0, tag) != tag)
                        {
                            duplicates[index]++;
                        }
                    }

                    Mbuf.FreeBulk(free);
                    heldCount -= n;
                }
            }

            foreach (Mbuf m in held.AsSpan(0, heldCount))
            {
                m.Header.UserData = 0;
            }

            Mbuf.FreeBulk(held.AsSpan(0, heldCount));
            pool.FlushCurrentLcoreCache();
        });

        Assert.Equal(new int[Threads], failedAllocs);
        Assert.Equal(new int[Threads], duplicates);
        Assert.Equal(new int[Threads], badState);
        MempoolAudit audit = pool.Audit();
        Assert.Equal(0, audit.InUse);
        Assert.Equal(0, audit.InCaches);
        Assert.Equal(pool.Capacity, audit.Available);
        Assert.Equal(pool.Capacity, audit.InRing);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Mbufs_allocated_on_one_lcore_and_freed_on_another_leak_nothing()
    {
        const int Total = 200_000;
        using var pool = Mempool.CreatePacketPool("cache-handoff", 2048, cacheSize: 256, dataRoomSize: 256);
        var queue = new ConcurrentQueue<Mbuf>();
        int outOfOrder = 0;
        int received = 0;

        Run(2, markLcores: true, (index, progress) =>
        {
            var burst = new Mbuf[64];
            var spin = default(SpinWait);
            if (index == 0)
            {
                // Producer (lcore 1): allocate bursts, stamp a sequence number, hand them over.
                var rng = new Random(7);
                int sent = 0;
                while (sent < Total)
                {
                    int n = Math.Min(rng.Next(1, 65), Total - sent);
                    if (pool.AllocBulk(burst.AsSpan(0, n)) == 0)
                    {
                        spin.SpinOnce(); // everything is in flight or in the consumer's cache: wait for frees
                        continue;
                    }

                    foreach (Mbuf m in burst.AsSpan(0, n))
                    {
                        Assert.True(m.TryAppend(4, out Span<byte> d));
                        BitConverter.TryWriteBytes(d, sent++);
                        queue.Enqueue(m);
                    }

                    Volatile.Write(ref progress[0], sent);
                }
            }
            else
            {
                // Consumer (lcore 2): free what arrives, in bursts, into its own lcore cache.
                int expected = 0;
                while (expected < Total)
                {
                    int n = 0;
                    while (n < burst.Length && queue.TryDequeue(out Mbuf m))
                    {
                        if (BitConverter.ToInt32(m.Data) != expected++)
                        {
                            outOfOrder++;
                        }

                        burst[n++] = m;
                    }

                    if (n == 0)
                    {
                        spin.SpinOnce();
                        continue;
                    }

                    Mbuf.FreeBulk(burst.AsSpan(0, n));
                    Volatile.Write(ref progress[0], expected);
                }

                received = expected;
            }

            pool.FlushCurrentLcoreCache();
        });

        Assert.Equal(Total, received);
        Assert.Equal(0, outOfOrder);
        Assert.True(queue.IsEmpty);
        Assert.Equal(new MempoolAudit(pool.Capacity, pool.Capacity, 0, 0), pool.Audit());
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Threads_without_a_cache_sharing_the_ring_leak_nothing()
    {
        // Not lcores: every get and put goes straight to the pool's multi-producer/multi-consumer ring.
        const int Threads = 4;
        const int Operations = 30_000;
        using var pool = Mempool.Create("ring-shared", 1024, 64, cacheSize: 0);
        var duplicates = new int[Threads];
        var failedGets = new int[Threads];

        Run(Threads, markLcores: false, (index, progress) =>
        {
            var rng = new Random(500 + index);
            var objs = new nint[16];
            long tag = index + 1;
            for (int op = 0; op < Operations; op++)
            {
                Volatile.Write(ref progress[0], op);
                Span<nint> batch = objs.AsSpan(0, rng.Next(1, objs.Length + 1));
                if (pool.GetBulk(batch) == 0)
                {
                    failedGets[index]++; // 4 x 16 out at most: the pool cannot run dry
                    continue;
                }

                foreach (nint o in batch)
                {
                    if (Interlocked.CompareExchange(ref *(long*)o, tag, 0) != 0)
                    {
                        duplicates[index]++;
                    }
                }

                foreach (nint o in batch)
                {
                    if (Interlocked.CompareExchange(ref *(long*)o, 0, tag) != tag)
                    {
                        duplicates[index]++;
                    }
                }

                pool.PutBulk(batch);
            }
        });

        Assert.Equal(new int[Threads], duplicates);
        Assert.Equal(new int[Threads], failedGets);
        Assert.Equal(new MempoolAudit(1024, 1024, 0, 0), pool.Audit());
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(index, progress) on <paramref name="count"/> new threads, marked as lcores
    /// 1..count when <paramref name="markLcores"/> (the mark is cleared when each finishes). Each thread
    /// stores a growing count in progress[0]. Fails when no thread makes progress for <see cref="StallLimit"/>;
    /// rethrows the first exception a thread threw.
    /// </summary>
    private static void Run(int count, bool markLcores, Action<int, long[]> body)
    {
        var errors = new ConcurrentQueue<Exception>();
        var progress = new long[count][];
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            progress[i] = new long[8]; // its own cache line, more or less: no false sharing between workers
            threads[i] = new Thread(() =>
            {
                if (markLcores)
                {
                    LcoreId.SetCurrent(index + 1);
                }

                try
                {
                    body(index, progress[index]);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    errors.Enqueue(e);
                }
                finally
                {
                    LcoreId.SetCurrent(-1);
                }
            })
            {
                IsBackground = true,
                Name = "worker " + (index + 1).ToString(CultureInfo.InvariantCulture),
            };
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        long last = -1;
        var sinceProgress = Stopwatch.StartNew();
        foreach (Thread t in threads)
        {
            while (!t.Join(50))
            {
                long now = 0;
                foreach (long[] p in progress)
                {
                    now += Volatile.Read(ref p[0]);
                }

                if (now != last)
                {
                    last = now;
                    sinceProgress.Restart();
                }
                else if (sinceProgress.Elapsed > StallLimit)
                {
                    string each = string.Join(", ", progress.Select(p => Volatile.Read(ref p[0])));
                    Assert.Fail($"{t.Name} is stuck: no progress for {StallLimit.TotalSeconds} s (progress per thread: {each}); a ring tail never published?");
                }
            }
        }

        if (errors.TryDequeue(out Exception? first))
        {
            throw new AggregateException("a worker thread failed", [first, .. errors]);
        }
    }
}
