using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// <see cref="MemoryRegion"/> behaviour that does not depend on reserved hugepages (those tests are in
/// <see cref="RegionHugepageTests"/>): shareable memfd regions, bounds checks, Contains, Dispose.
/// </summary>
public unsafe class RegionTests
{
    private const long TwoMiB = 2L * 1024 * 1024;

    [Fact]
    public void Shareable_region_without_hugepages_is_a_memfd_with_a_valid_fd()
    {
        using var region = MemoryRegion.Create("region-share", 100_000, new RegionOptions { Shareable = true, AllowHugepages = false });

        Assert.Equal(RegionBacking.SmallPageMemFd, region.Backing);
        Assert.True(region.IsShareable);
        Assert.NotNull(region.Fd);
        Assert.False(region.Fd!.IsInvalid);
        Assert.False(region.Fd.IsClosed);
        Assert.True(region.Fd.Fd >= 0);
        Assert.Equal(Mman.PageSize, region.PageSize);
        Assert.True(region.Size >= 100_000);
        Assert.Equal(0, region.Size % Mman.PageSize);
        Assert.Equal(0, region.Address % Mman.PageSize);
        Assert.Contains("hugepages not allowed", region.Reason, StringComparison.Ordinal);

        // The fd really is a memfd named after the region.
        string link = File.ResolveLinkTarget($"/proc/self/fd/{region.Fd.Fd}", returnFinalTarget: false)!.FullName;
        Assert.Contains("memfd:hyperlane:region-share", link, StringComparison.Ordinal);
    }

    [Fact]
    public void Shareable_region_memory_is_visible_through_a_second_mapping_of_its_fd()
    {
        using var region = MemoryRegion.Create("region-peer", 3 * 4096, new RegionOptions { Shareable = true, AllowHugepages = false });

        // What a vhost-user peer does with the fd it received: map it and see the same bytes.
        SysResult m = Mman.Map(0, (nuint)region.Size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, region.Fd, 0);
        Assert.True(m.IsSuccess, $"mmap of the region fd: {m}");
        try
        {
            var peer = new Span<byte>((void*)m.Value, (int)region.Size);
            region.AsSpan(0, 4)[..].Fill(0xA5);
            region.AsSpan(region.Size - 1, 1)[0] = 0x5A;
            Assert.Equal(0xA5, peer[3]);
            Assert.Equal(0x5A, peer[^1]);

            peer[100] = 77;
            Assert.Equal(77, region.AsSpan(100, 1)[0]);
        }
        finally
        {
            Assert.True(Mman.Unmap((nint)m.Value, (nuint)region.Size).IsSuccess);
        }
    }

    [Fact]
    public void Shareable_region_with_default_options_is_fd_backed()
    {
        using var region = MemoryRegion.Create("region-share-default", 4096, new RegionOptions { Shareable = true });

        // Hugetlb if some other test run left hugepages free, else a small-page memfd; never anonymous.
        Assert.NotEqual(RegionBacking.AnonymousThp, region.Backing);
        Assert.True(region.IsShareable);
        Assert.False(region.Fd!.IsInvalid);
    }

    [Fact]
    public void Region_without_hugepages_allowed_is_anonymous_and_2MiB_aligned()
    {
        using var region = MemoryRegion.Create("region-anon", 1, new RegionOptions { AllowHugepages = false });

        Assert.Equal(RegionBacking.AnonymousThp, region.Backing);
        Assert.False(region.IsShareable);
        Assert.Null(region.Fd);
        Assert.Equal(0, region.Address % TwoMiB);
        Assert.Equal(TwoMiB, region.Size);
        Assert.StartsWith("hugepages not allowed; anonymous", region.Reason, StringComparison.Ordinal);

        // Prefaulted and writable from the first to the last byte.
        Span<byte> all = region.AsSpan(0, (int)region.Size);
        Assert.True(all.IndexOfAnyExcept((byte)0) < 0, "fresh anonymous memory is zero");
        all.Fill(0xCC);
        Assert.Equal(0xCC, all[^1]);
    }

    [Fact]
    public void Create_rejects_bad_arguments()
    {
        Assert.ThrowsAny<ArgumentException>(() => MemoryRegion.Create(string.Empty, 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryRegion.Create("region-zero", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryRegion.Create("region-negative", -4096));
    }

    [Fact]
    public void AsSpan_accepts_exactly_the_region()
    {
        using var region = MemoryRegion.Create("region-span", 8192, new RegionOptions { Shareable = true, AllowHugepages = false });
        long size = region.Size;

        Assert.Equal((int)size, region.AsSpan(0, (int)size).Length);
        Assert.Equal(1, region.AsSpan(size - 1, 1).Length);
        Assert.Equal(0, region.AsSpan(size, 0).Length);
        Assert.Equal(0, region.AsSpan(0, 0).Length);

        fixed (byte* p = region.AsSpan(10, 5))
        {
            Assert.Equal(region.Address + 10, (nint)p);
        }
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, -1)]
    [InlineData(-4096L, 4096)]
    [InlineData(8192L, 1)]
    [InlineData(8191L, 2)]
    [InlineData(0L, 8193)]
    [InlineData(8193L, 0)]
    [InlineData(long.MaxValue, 1)]
    [InlineData(long.MaxValue - 10, 100)]
    [InlineData(long.MinValue, 0)]
    public void AsSpan_outside_the_region_throws(long offset, int length)
    {
        using var region = MemoryRegion.Create("region-oob", 8192, new RegionOptions { Shareable = true, AllowHugepages = false });
        Assert.Equal(8192, region.Size);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => region.AsSpan(offset, length));
        Assert.Contains("region-oob", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Contains_is_true_only_inside_the_region()
    {
        using var region = MemoryRegion.Create("region-contains", 8192, new RegionOptions { Shareable = true, AllowHugepages = false });
        nint a = region.Address;
        long size = region.Size;

        Assert.True(region.Contains(a, size));
        Assert.True(region.Contains(a, 1));
        Assert.True(region.Contains(a + (nint)size - 1, 1));
        Assert.True(region.Contains(a + 100, 0));

        Assert.False(region.Contains(a, size + 1));
        Assert.False(region.Contains(a - 1, 1));
        Assert.False(region.Contains(a - 1, 2));
        Assert.False(region.Contains(a + (nint)size, 1));
        Assert.False(region.Contains(a + (nint)size - 1, 2));
        Assert.False(region.Contains(a, -1));
        Assert.False(region.Contains(a, long.MaxValue));
        Assert.False(region.Contains(0, 1));
        Assert.False(region.Contains(nint.MaxValue, 1));
    }

    [Fact]
    public void Dispose_is_idempotent_and_closes_the_fd()
    {
        var region = MemoryRegion.Create("region-dispose", 4096, new RegionOptions { Shareable = true, AllowHugepages = false });
        SafeFd fd = region.Fd!;
        Assert.False(region.IsDisposed);

        region.Dispose();
        Assert.True(region.IsDisposed);
        Assert.True(fd.IsClosed);

        region.Dispose();
        Assert.True(region.IsDisposed);

        var anon = MemoryRegion.Create("region-dispose-anon", 4096, new RegionOptions { AllowHugepages = false });
        anon.Dispose();
        anon.Dispose();
        Assert.True(anon.IsDisposed);
    }

    [Fact]
    public void ToString_names_the_region_backing_and_reason()
    {
        using var region = MemoryRegion.Create("region-text", 4096, new RegionOptions { Shareable = true, AllowHugepages = false });
        string text = region.ToString();
        Assert.StartsWith("region-text: 4 KiB SmallPageMemFd (", text, StringComparison.Ordinal);
        Assert.Contains(region.Reason, text, StringComparison.Ordinal);
    }
}
