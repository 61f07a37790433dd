using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Dirty logging for live migration (vhost-user.rst "Migration", dpdk-drivers.md §8.3): with a log, exactly the
/// pages the backend wrote — the bytes of receive buffers it filled, and with LogUsedRing the used ring's
/// elements, idx and flags — are marked, and no other page.
/// </summary>
public class SplitDirtyLogTests
{
    private const ulong V1 = SplitTxTests.V1;
    private const ulong Mrg = SplitTxTests.Mrg;
    private const ulong Page = DirtyLog.PageSize;

    private static SortedSet<ulong> Marked(SplitRingDriver driver)
    {
        var pages = new SortedSet<ulong>();
        for (int b = 0; b < driver.LogBitmap!.Length; b++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                if ((driver.LogBitmap[b] & (1 << bit)) != 0)
                {
                    pages.Add((ulong)((b * 8) + bit));
                }
            }
        }

        return pages;
    }

    private static void AddRange(SortedSet<ulong> pages, ulong gpa, ulong length)
    {
        for (ulong p = gpa / Page; p <= (gpa + length - 1) / Page; p++)
        {
            pages.Add(p);
        }
    }

    /// <summary>The pages of used->flags, used->idx and used->ring[i] for the given free-running indexes.</summary>
    private static SortedSet<ulong> UsedPages(SplitRingDriver driver, IEnumerable<int> indexes)
    {
        var pages = new SortedSet<ulong>();
        AddRange(pages, SplitRingDriver.UsedGpa, 4);
        foreach (int i in indexes)
        {
            AddRange(pages, SplitRingDriver.UsedGpa + 4 + (8UL * (ulong)(i & (driver.Size - 1))), 8);
        }

        return pages;
    }

    private static ushort PostRxAt(SplitRingDriver driver, ulong gpa, int length)
    {
        ushort d = driver.AllocDesc();
        driver.WriteDesc(d, gpa, (uint)length, VirtqDescFlags.Write);
        driver.Track(d, [d], (gpa, length));
        driver.PushAvail(d);
        return d;
    }

    [Fact]
    public void Receive_marks_the_bytes_written_and_the_used_ring_only()
    {
        using var driver = new SplitRingDriver(256, V1 | Mrg, log: true);
        SplitVhostQueue queue = driver.CreateQueue();

        // Buffers that start 96 bytes before a page boundary and run over several pages, far more than is written.
        var expected = UsedPages(driver, Enumerable.Range(0, 5));
        ulong[] starts = new ulong[6];
        for (int i = 0; i < starts.Length; i++)
        {
            starts[i] = driver.AllocBuffer(5 * 4096, 4096) + 4000;
            PostRxAt(driver, starts[i], 3 * 4096);
        }

        // One packet of 100 bytes (head 0: 112 bytes), one of 30000 (heads 1..3: 12288 + 12288 + 5436 bytes),
        // one of 2000 (head 4). Head 5 stays untouched.
        Assert.Equal(3, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(100, 1), SplitPackets.Frame(30000, 2), SplitPackets.Frame(2000, 3)));
        AddRange(expected, starts[0], 112);
        AddRange(expected, starts[1], 12288);
        AddRange(expected, starts[2], 12288);
        AddRange(expected, starts[3], 30012 - 24576);
        AddRange(expected, starts[4], 2012);

        Assert.Equal(expected, Marked(driver));
        Assert.DoesNotContain(starts[5] / Page, Marked(driver));
        Assert.Equal(0, driver.Log!.OutOfRangeMarks);
    }

    [Fact]
    public void Transmit_marks_only_the_used_ring_even_across_its_wrap_and_pages()
    {
        // 2048 entries: the used ring spans five pages. From 2044 the eight elements written are on its fourth
        // and fifth page (2044..2047) and its first (0..3); its second and third page stay clean.
        using var driver = new SplitRingDriver(2048, V1, log: true, baseIndex: 2044);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 8; i++)
        {
            driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(3000, i)), 12, int.MaxValue);
        }

        Assert.Equal(8, SplitTxTests.DequeueBytes(queue, driver.Pool).Count);
        SortedSet<ulong> expected = UsedPages(driver, Enumerable.Range(2044, 8));
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected, Marked(driver));
    }

    [Fact]
    public void Without_log_used_ring_only_buffers_are_marked()
    {
        using var driver = new SplitRingDriver(256, V1, log: true);
        Assert.True(SplitVhostQueue.TryCreate(driver.Setup(logUsed: false), out SplitVhostQueue? queue, out string? error), error);
        ulong start = driver.AllocBuffer(8192, 4096);
        PostRxAt(driver, start, 8192);
        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue!, SplitPackets.Frame(5000, 1)));
        var expected = new SortedSet<ulong>();
        AddRange(expected, start, 5012);
        Assert.Equal(expected, Marked(driver));
    }

    [Fact]
    public void A_malformed_chain_still_logs_what_was_written_into_it()
    {
        // Bytes written before the fault was found are real writes to guest memory: they are logged too.
        using var driver = new SplitRingDriver(256, V1, log: true);
        SplitVhostQueue queue = driver.CreateQueue();
        ulong good = driver.AllocBuffer(4096, 4096);
        ulong bad = driver.AllocBuffer(8192, 4096);
        ushort a = driver.AllocDesc(), b = driver.AllocDesc();
        driver.WriteDesc(a, bad, 4096, VirtqDescFlags.Write | VirtqDescFlags.Next, b);
        driver.WriteDesc(b, bad + 4096, 4096, VirtqDescFlags.None); // read-only: WrongDirection
        driver.Track(a, [a, b]);
        driver.PushAvail(a);
        PostRxAt(driver, good, 4096);

        Assert.Equal(1, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(1000, 1)));
        Assert.Equal(VhostQueueFault.WrongDirection, queue.Stats.LastFault);
        SortedSet<ulong> expected = UsedPages(driver, [0, 1]);
        AddRange(expected, bad, 1012);
        AddRange(expected, good, 1012);
        Assert.Equal(expected, Marked(driver));
    }
}
