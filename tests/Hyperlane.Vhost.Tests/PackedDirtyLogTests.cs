using Hyperlane.Memory;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Live migration: with a dirty log the packed queue marks exactly the guest pages it wrote — every byte of a
/// received packet (header included) and, with VHOST_VRING_F_LOG, the used descriptors and the device area — and
/// no others.
/// </summary>
public sealed class PackedDirtyLogTests
{
    private static HashSet<ulong> Pages(ulong gpa, ulong length)
    {
        var set = new HashSet<ulong>();
        for (ulong p = gpa / DirtyLog.PageSize; p <= (gpa + length - 1) / DirtyLog.PageSize; p++)
        {
            set.Add(p);
        }

        return set;
    }

    private static void AssertExactly(DirtyLog log, HashSet<ulong> expected)
    {
        var dirty = new HashSet<ulong>();
        for (ulong page = 0; page < log.PageCount; page++)
        {
            if (log.IsDirty(page * DirtyLog.PageSize))
            {
                dirty.Add(page);
            }
        }

        Assert.Equal(expected.OrderBy(p => p), dirty.OrderBy(p => p));
        Assert.Equal(0, log.OutOfRangeMarks);
    }

    private static HashSet<ulong> UsedPages(PackedTestBench b, IEnumerable<PackedTestUsed> used)
    {
        var set = Pages(b.Driver.DeviceEventGpa, 4);
        foreach (var u in used)
        {
            set.UnionWith(Pages(b.Driver.RingGpa + ((ulong)u.Position * VirtqPackedDesc.Size), VirtqPackedDesc.Size));
        }

        return set;
    }

    /// <summary>Receive chains laid out so that written bytes end mid-page, start mid-page and skip whole pages.</summary>
    private static List<PackedTestUsed> ReceiveAcrossPages(PackedTestBench b, out HashSet<ulong> dataPages)
    {
        ulong area = b.Guest.Scratch(64 * 4096, 4096);
        // chain 1: 100 bytes at the end of a page, 3000 bytes in the next; chain 2: 6000 bytes from mid-page.
        b.Driver.Post(new PackedTestElement(area + 4096 - 100, 100, true), new PackedTestElement(area + 8192 + 500, 3000, true));
        b.Driver.Post(new PackedTestElement(area + (20 * 4096) + 2000, 6000, true));
        b.Driver.Post(new PackedTestElement(area + (40 * 4096), 5000, true));
        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(2000, 1)); // 12 + 2000: 100 + 1912 in chain 1
        Mbuf second = b.MakePacket(PackedTestBench.Pattern(40, 2));   // 52 bytes at the start of chain 2
        Assert.Equal(2, b.Queue.Enqueue([packet, second]));
        packet.Free();
        second.Free();
        dataPages = Pages(area + 4096 - 100, 100);
        dataPages.UnionWith(Pages(area + 8192 + 500, 1912));
        dataPages.UnionWith(Pages(area + (20 * 4096) + 2000, 52));
        return b.Driver.TakeAllUsed();
    }

    [Fact]
    public void Receive_marks_the_bytes_written_and_the_used_descriptors()
    {
        using var b = PackedTestBench.Create(log: true, logUsedRing: true);
        var used = ReceiveAcrossPages(b, out var dataPages);

        Assert.Equal(2, used.Count);
        dataPages.UnionWith(UsedPages(b, used));
        AssertExactly(b.Log!, dataPages);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Without_vring_log_only_the_buffers_are_marked()
    {
        using var b = PackedTestBench.Create(log: true, logUsedRing: false);
        ReceiveAcrossPages(b, out var dataPages);

        AssertExactly(b.Log!, dataPages);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Merged_receive_buffers_are_all_marked()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf, log: true, logUsedRing: true);
        ulong area = b.Guest.Scratch(16 * 4096, 4096);
        for (int i = 0; i < 4; i++)
        {
            b.Driver.Post(new PackedTestElement(area + ((ulong)i * 3 * 4096) + 1000, 4096, true));
        }

        Mbuf packet = b.MakePacket(PackedTestBench.Pattern(9000, 1)); // 9012 bytes: 4096 + 4096 + 820
        Assert.Equal(1, b.Queue.Enqueue([packet]));
        packet.Free();
        var used = b.Driver.TakeAllUsed();
        Assert.Equal(3, used.Count);

        var expected = Pages(area + 1000, 4096);
        expected.UnionWith(Pages(area + (3 * 4096) + 1000, 4096));
        expected.UnionWith(Pages(area + (6 * 4096) + 1000, 820));
        expected.UnionWith(UsedPages(b, used));
        AssertExactly(b.Log!, expected);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Transmit_marks_only_the_used_descriptors()
    {
        using var b = PackedTestBench.Create(size: 512, log: true, logUsedRing: true);
        var packets = new Mbuf[32];
        var used = new List<PackedTestUsed>();
        for (int round = 0; round < 20; round++) // 20 × 30 descriptors: the used descriptors cover two ring pages
        {
            for (int i = 0; i < 15; i++)
            {
                b.PostTx(PackedTestBench.Pattern(1000, i), [12]);
            }

            Assert.Equal(15, b.Queue.Dequeue(b.Pool, packets));
            Mbuf.FreeBulk(packets.AsSpan(0, 15));
            used.AddRange(b.Driver.TakeAllUsed());
            b.Guest.ResetScratch();
        }

        var expected = UsedPages(b, used);
        Assert.Equal(3, expected.Count); // two ring pages and the device area's
        AssertExactly(b.Log!, expected);
        b.AssertNoLeaks();
    }
}
