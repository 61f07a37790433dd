using System.Globalization;
using Hyperlane.Linux;
using Xunit.Abstractions;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// How <see cref="MemoryRegion.Create"/> chooses hugepages. These tests read (and one changes) the host's
/// hugepage reservation, or point <see cref="HostFs.Root"/> at a fake sysfs, so they run alone.
/// </summary>
[Collection(MemorySerialCollection.Name)]
public unsafe class RegionHugepageTests(ITestOutputHelper output)
{
    private const long TwoMiB = 2L * 1024 * 1024;
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";
    private const string HugepagesDir = "/sys/kernel/mm/hugepages/hugepages-2048kB";

    [Fact]
    public void Default_options_use_anonymous_thp_when_no_hugepages_are_free()
    {
        HugepageInfo huge = HugepageInfo.Read();
        using var region = MemoryRegion.Create("region-default", 3 * 1024 * 1024);

        Assert.Equal(0, region.Address % TwoMiB);
        Assert.False(string.IsNullOrWhiteSpace(region.Reason));
        if (huge.Free >= 2)
        {
            Assert.Equal(RegionBacking.HugetlbMemFd, region.Backing);
            return;
        }

        Assert.Equal(RegionBacking.AnonymousThp, region.Backing);
        Assert.Null(region.Fd);
        Assert.Equal(2 * TwoMiB, region.Size);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{huge.Free} hugepages free, 2 needed"), region.Reason, StringComparison.Ordinal);
        Assert.Contains("anonymous", region.Reason, StringComparison.Ordinal);
        region.AsSpan(0, (int)region.Size).Fill(1);
    }

    [Fact]
    public void RequireHugepages_without_free_hugepages_throws_saying_how_to_reserve_them()
    {
        HugepageInfo huge = HugepageInfo.Read();
        var options = new RegionOptions { RequireHugepages = true };
        if (huge.Free >= 1)
        {
            using var region = MemoryRegion.Create("region-require", 4096, options);
            Assert.Equal(RegionBacking.HugetlbMemFd, region.Backing);
            return;
        }

        var e = Assert.Throws<InvalidOperationException>(() => MemoryRegion.Create("region-require", 4096, options));
        Assert.Contains("region-require", e.Message, StringComparison.Ordinal);
        Assert.Contains("hugepages required", e.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"echo {huge.Total + 1} > /proc/sys/vm/nr_hugepages"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reserved_hugepages_give_a_writable_hugetlb_memfd_region()
    {
        if (!ProcessInfo.IsRoot)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail("needs root: reserves hugepages by writing /proc/sys/vm/nr_hugepages");
            }

            output.WriteLine("skipped Reserved_hugepages_give_a_writable_hugetlb_memfd_region: needs root to write /proc/sys/vm/nr_hugepages");
            return;
        }

        string old = File.ReadAllText(NrHugepages).Trim();
        long oldCount = long.Parse(old, CultureInfo.InvariantCulture);
        try
        {
            File.WriteAllText(NrHugepages, (oldCount + 4).ToString(CultureInfo.InvariantCulture));
            HugepageInfo before = HugepageInfo.Read();
            Assert.True(before.Free >= 4, $"the kernel reserved only {before.Free} free of {before.Total} hugepages (memory fragmented?)");

            using (var region = MemoryRegion.Create("region-huge", 3 * TwoMiB, new RegionOptions { RequireHugepages = true }))
            {
                Assert.Equal(RegionBacking.HugetlbMemFd, region.Backing);
                Assert.Equal(TwoMiB, region.PageSize);
                Assert.Equal(3 * TwoMiB, region.Size);
                Assert.Equal(0, region.Address % TwoMiB);
                Assert.True(region.IsShareable);
                Assert.False(region.Fd!.IsInvalid);
                Assert.Equal("hugepages reserved", region.Reason);

                // MAP_POPULATE took the pages at creation.
                Assert.Equal(before.Free - 3, HugepageInfo.Read().Free);

                Span<byte> all = region.AsSpan(0, (int)region.Size);
                for (int i = 0; i < all.Length; i += 4096)
                {
                    all[i] = (byte)(i >> 12);
                }

                all[^1] = 0xEE;
                for (int i = 0; i < all.Length; i += 4096)
                {
                    Assert.Equal((byte)(i >> 12), all[i]);
                }

                Assert.Equal(0xEE, all[^1]);
            }

            Assert.Equal(before.Free, HugepageInfo.Read().Free);

            // A packet pool asked to stand on hugepages gets them, and works.
            using (var pool = Mempool.CreatePacketPool("pool-huge", 512, cacheSize: 0, region: new RegionOptions { RequireHugepages = true }))
            {
                Assert.Equal(RegionBacking.HugetlbMemFd, pool.Region.Backing);
                Mbuf m = pool.Alloc();
                Assert.True(m.TryAppend(1500, out Span<byte> data));
                data.Fill(9);
                Assert.Null(m.Validate());
                m.Free();
                Assert.True(pool.Audit().IsFull);
            }
        }
        finally
        {
            File.WriteAllText(NrHugepages, old);
        }

        Assert.Equal(old, File.ReadAllText(NrHugepages).Trim());
    }

    [Fact]
    public void HugepageInfo_reads_sysfs_through_HostFs()
    {
        string previous = HostFs.Root;
        string root = FakeSysfs(total: "8\n", free: "5\n");
        try
        {
            HostFs.Root = root;
            Assert.Equal(new HugepageInfo(8, 5, 2 * 1024 * 1024), HugepageInfo.Read());

            File.Delete(root + HugepagesDir + "/free_hugepages");
            Assert.Equal(new HugepageInfo(8, 0, HugepageInfo.DefaultPageSize), HugepageInfo.Read());

            File.WriteAllText(root + HugepagesDir + "/nr_hugepages", "garbage");
            Assert.Equal(new HugepageInfo(0, 0, HugepageInfo.DefaultPageSize), HugepageInfo.Read());
        }
        finally
        {
            HostFs.Root = previous;
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void RequireHugepages_message_counts_pages_already_in_use()
    {
        // 8 reserved, 3 of them in use elsewhere: 10 more free pages need nr_hugepages = 3 + 10 = 13.
        string previous = HostFs.Root;
        string root = FakeSysfs(total: "8", free: "5");
        try
        {
            HostFs.Root = root;
            var e = Assert.Throws<InvalidOperationException>(
                () => MemoryRegion.Create("region-short", 10 * TwoMiB, new RegionOptions { RequireHugepages = true }));
            Assert.Contains("5 hugepages free, 10 needed", e.Message, StringComparison.Ordinal);
            Assert.Contains("echo 13 > /proc/sys/vm/nr_hugepages", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            HostFs.Root = previous;
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Failed_hugetlb_mapping_falls_back_and_says_why()
    {
        if (HugepageInfo.Read().Free > 0)
        {
            return; // real hugepages are free: the hugetlb attempt below would succeed
        }

        // sysfs claims plenty of free hugepages, the kernel has none: mmap of the hugetlb memfd fails.
        string previous = HostFs.Root;
        string root = FakeSysfs(total: "1000", free: "1000");
        try
        {
            HostFs.Root = root;
            using (var region = MemoryRegion.Create("region-fallback", 4096))
            {
                Assert.Equal(RegionBacking.AnonymousThp, region.Backing);
                Assert.Contains("hugetlb memfd failed", region.Reason, StringComparison.Ordinal);
                Assert.Contains("1000 of 1000 hugepages free", region.Reason, StringComparison.Ordinal);
            }

            using (var shared = MemoryRegion.Create("region-fallback-shared", 4096, new RegionOptions { Shareable = true }))
            {
                Assert.Equal(RegionBacking.SmallPageMemFd, shared.Backing);
                Assert.Contains("hugetlb memfd failed", shared.Reason, StringComparison.Ordinal);
            }

            var e = Assert.Throws<InvalidOperationException>(
                () => MemoryRegion.Create("region-fallback-required", 4096, new RegionOptions { RequireHugepages = true }));
            Assert.Contains("hugetlb memfd failed", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            HostFs.Root = previous;
            Directory.Delete(root, recursive: true);
        }
    }

    private static string FakeSysfs(string total, string free)
    {
        string root = Directory.CreateTempSubdirectory("hyperlane-hugepages-").FullName;
        Directory.CreateDirectory(root + HugepagesDir);
        File.WriteAllText(root + HugepagesDir + "/nr_hugepages", total);
        File.WriteAllText(root + HugepagesDir + "/free_hugepages", free);
        return root;
    }
}
