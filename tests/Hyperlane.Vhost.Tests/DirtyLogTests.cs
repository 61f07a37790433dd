using System.Runtime.InteropServices;
using Hyperlane.Testing;
using Hyperlane.Vhost.Memory;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// <see cref="DirtyLog"/> over a pinned byte array with guard bytes around the bitmap: exactly the expected bits
/// are set (page = gpa / 4096, byte page / 8, bit page % 8), nothing outside the log is written (hardening.md VU-15).
/// </summary>
public class DirtyLogTests
{
    private const int Guard = 16;
    private const int LogBytes = 4; // 32 pages = 128 KiB of guest memory

    private readonly byte[] _backing = GC.AllocateArray<byte>(Guard + LogBytes + Guard, pinned: true);

    private DirtyLog NewLog() => new(Marshal.UnsafeAddrOfPinnedArrayElement(_backing, Guard), LogBytes);

    private byte[] Bitmap => _backing.AsSpan(Guard, LogBytes).ToArray();

    private static byte[] Expected(params int[] pages)
    {
        var bytes = new byte[LogBytes];
        foreach (int p in pages)
        {
            bytes[p / 8] |= (byte)(1 << (p % 8));
        }

        return bytes;
    }

    private void AssertGuardsUntouched()
    {
        Assert.All(_backing.AsSpan(0, Guard).ToArray(), b => Assert.Equal(0, b));
        Assert.All(_backing.AsSpan(Guard + LogBytes).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void One_byte_marks_its_page_only()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(0, 1);
        Assert.Equal(Expected(0), Bitmap);
        log.MarkDirty(0x5FFF, 1);
        Assert.Equal(Expected(0, 5), Bitmap);
        AssertGuardsUntouched();
    }

    [Fact]
    public void Two_bytes_across_a_page_boundary_mark_both_pages()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(4095, 2);
        Assert.Equal(Expected(0, 1), Bitmap);
    }

    [Fact]
    public void Exactly_one_page_marks_one_bit()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(4096, 4096);
        Assert.Equal(Expected(1), Bitmap);
    }

    [Fact]
    public void Range_across_a_byte_boundary_marks_bits_in_both_bytes()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(0x7000, 0x3001); // pages 7, 8, 9, 10
        Assert.Equal(Expected(7, 8, 9, 10), Bitmap);
        Assert.Equal([0x80, 0x07, 0, 0], Bitmap);
    }

    [Fact]
    public void Range_over_whole_bytes_marks_every_page()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(3 * 4096, 20 * 4096); // pages 3..22
        Assert.Equal(Expected([.. Enumerable.Range(3, 20)]), Bitmap);
        AssertGuardsUntouched();
    }

    [Fact]
    public void Zero_length_marks_nothing()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(0x3000, 0);
        log.MarkDirty(ulong.MaxValue, 0);
        Assert.Equal(new byte[LogBytes], Bitmap);
        Assert.Equal(0, log.OutOfRangeMarks);
    }

    [Fact]
    public void Existing_bits_are_kept()
    {
        _backing[Guard] = 0b0101_0000;
        DirtyLog log = NewLog();
        log.MarkDirty(0, 4096 * 2);
        Assert.Equal([0b0101_0011, 0, 0, 0], Bitmap);
    }

    [Fact]
    public void Pages_beyond_the_log_are_counted_not_written()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(30 * 4096, 4 * 4096); // pages 30..33: 30, 31 inside, 32, 33 beyond
        Assert.Equal(Expected(30, 31), Bitmap);
        Assert.Equal(2, log.OutOfRangeMarks);

        log.MarkDirty(32 * 4096, 1);        // wholly beyond
        log.MarkDirty(1UL << 40, 4096 * 3); // far beyond: 3 pages
        Assert.Equal(6, log.OutOfRangeMarks);
        Assert.Equal(Expected(30, 31), Bitmap);
        AssertGuardsUntouched();
    }

    [Fact]
    public void Ranges_reaching_the_top_of_the_address_space_are_cut_there()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(ulong.MaxValue - 10, 100); // the last page only: the range is cut at 2^64 - 1
        Assert.Equal(1, log.OutOfRangeMarks);

        log.MarkDirty(0, ulong.MaxValue);        // every page of the address space
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], Bitmap);
        Assert.Equal(1 + ((1L << 52) - 32), log.OutOfRangeMarks);
        AssertGuardsUntouched();
    }

    [Fact]
    public void Is_dirty_reads_the_bit()
    {
        DirtyLog log = NewLog();
        log.MarkDirty(9 * 4096 + 5, 1);
        Assert.True(log.IsDirty(9 * 4096));
        Assert.True(log.IsDirty((10 * 4096) - 1));
        Assert.False(log.IsDirty(10 * 4096));
        Assert.False(log.IsDirty(1UL << 40));
        Assert.Equal(32UL, log.PageCount);
        Assert.Equal((ulong)LogBytes, log.SizeBytes);
    }

    [Fact]
    public void Random_ranges_agree_with_a_page_by_page_model()
    {
        var random = new Random(7);
        for (int round = 0; round < 2_000; round++)
        {
            Array.Clear(_backing);
            DirtyLog log = NewLog();
            var model = new bool[LogBytes * 8];
            long beyond = 0;
            for (int i = 0; i < 5; i++)
            {
                ulong gpa = (ulong)random.Next(0, 40 * 4096);
                ulong length = (ulong)random.Next(0, 6 * 4096);
                log.MarkDirty(gpa, length);
                if (length == 0)
                {
                    continue;
                }

                for (ulong page = gpa / 4096; page <= (gpa + length - 1) / 4096; page++)
                {
                    if (page < (ulong)model.Length)
                    {
                        model[page] = true;
                    }
                    else
                    {
                        beyond++;
                    }
                }
            }

            Assert.Equal(Expected([.. Enumerable.Range(0, model.Length).Where(p => model[p])]), Bitmap);
            Assert.Equal(beyond, log.OutOfRangeMarks);
            AssertGuardsUntouched();
        }
    }

    [Fact]
    public void Concurrent_marks_on_the_same_bytes_lose_no_bit()
    {
        const int threads = 8;
        for (int round = 0; round < 200; round++)
        {
            Array.Clear(_backing);
            DirtyLog log = NewLog();
            using var start = new Barrier(threads);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    for (int page = id; page < LogBytes * 8; page += threads)
                    {
                        log.MarkDirty((ulong)page * 4096, 1); // every thread writes every byte, one bit each
                    }
                });
                workers[t].Start();
            }

            foreach (var w in workers)
            {
                w.Join();
            }

            Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], Bitmap);
            AssertGuardsUntouched();
        }
    }

    [Fact]
    public void Marking_allocates_nothing()
    {
        DirtyLog log = NewLog();
        Exercise(log, 10_000);
        long before = ThreadAllocations.Baseline();
        Exercise(log, 1_000_000);
        Assert.Equal(0, ThreadAllocations.Since(before));
    }

    [Fact]
    public void Constructor_refuses_a_missing_or_wrapping_bitmap()
    {
        Assert.Throws<ArgumentException>(() => new DirtyLog(0, 16));
        Assert.Throws<ArgumentException>(() => new DirtyLog(-16, 32));
        var empty = new DirtyLog(0, 0);
        empty.MarkDirty(0, 4096);
        Assert.Equal(1, empty.OutOfRangeMarks);
    }

    private static void Exercise(DirtyLog log, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            log.MarkDirty((ulong)(i & 0x1F) * 4096, 1500);
            log.MarkDirty(0x1F000, 0x3000); // partly beyond the log
        }
    }
}
