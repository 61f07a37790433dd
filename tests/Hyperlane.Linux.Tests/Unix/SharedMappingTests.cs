using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// <see cref="SharedMapping"/>: regions are checked against the file before mmap (no SIGBUS from a short
/// memfd), unaligned offsets map the right bytes, Dispose unmaps once.
/// </summary>
public unsafe class SharedMappingTests
{
    private const long TwoMiB = 2L * 1024 * 1024;

    [Fact]
    public void A_region_beyond_the_end_of_the_file_is_rejected_with_its_numbers()
    {
        using SafeFd memfd = TestMemFds.Create(8192);
        var e = Assert.Throws<ArgumentException>(() => SharedMapping.Map(memfd, 4096, 8192));
        Assert.Contains("region of 8192 bytes at offset 4096 is beyond the end of the file (size 8192)", e.Message, StringComparison.Ordinal);

        // One byte too far is too far; exactly to the end is fine.
        Assert.Throws<ArgumentException>(() => SharedMapping.Map(memfd, 100, 8093));
        using var fits = SharedMapping.Map(memfd, 100, 8092);
        fits.AsSpan(8091, 1)[0] = 1;
    }

    [Fact]
    public void An_empty_memfd_cannot_be_mapped()
    {
        using SafeFd empty = TestMemFds.Create(0);
        var e = Assert.Throws<ArgumentException>(() => SharedMapping.Map(empty, 0, 4096));
        Assert.Contains("(size 0)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_or_negative_length_negative_offset_and_overflow_are_rejected()
    {
        using SafeFd memfd = TestMemFds.Create(8192);
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMapping.Map(memfd, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMapping.Map(memfd, 0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMapping.Map(memfd, -4096, 4096));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SharedMapping.Map(memfd, long.MaxValue - 10, 4096));
        Assert.Contains("overflows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unaligned_offset_maps_exactly_the_bytes_at_that_offset()
    {
        const int Size = 5 * 4096;
        using SafeFd memfd = TestMemFds.Create(Size);
        using (var whole = SharedMapping.Map(memfd, 0, Size))
        {
            Span<byte> all = whole.AsSpan(0, Size);
            for (int i = 0; i < Size; i++)
            {
                all[i] = (byte)(i % 251);
            }
        }

        const long Offset = 4096 + 4096 + 777;
        using var region = SharedMapping.Map(memfd, Offset, 5000);
        Assert.Equal((nuint)5000, region.Length);
        Assert.Equal(Offset, region.Offset);
        Assert.Equal(Mman.PageSize, region.Alignment);
        Assert.Equal(777 % Mman.PageSize, region.Pointer % Mman.PageSize);
        Span<byte> s = region.AsSpan(0, 5000);
        for (int i = 0; i < s.Length; i++)
        {
            Assert.Equal((byte)((Offset + i) % 251), s[i]);
        }
    }

    [Fact]
    public void A_read_only_mapping_sees_the_writers_bytes()
    {
        using SafeFd memfd = TestMemFds.Create(4096);
        using var writer = SharedMapping.Map(memfd, 10, 100);
        using var reader = SharedMapping.Map(memfd, 10, 100, writable: false);
        Assert.False(reader.IsWritable);
        writer.AsSpan(0, 100).Fill(0xab);
        Assert.True(reader.AsSpan(0, 100).IndexOfAnyExcept((byte)0xab) < 0);
    }

    [Fact]
    public void Contains_accepts_only_ranges_inside_the_region()
    {
        using SafeFd memfd = TestMemFds.Create(8192);
        using var region = SharedMapping.Map(memfd, 100, 1000);
        nint p = region.Pointer;
        Assert.True(region.Contains(p, 1000));
        Assert.True(region.Contains(p + 999, 1));
        Assert.True(region.Contains(p + 1000, 0));
        Assert.False(region.Contains(p + 999, 2));
        Assert.False(region.Contains(p - 1, 1));
        Assert.False(region.Contains(p, 1001));
        Assert.False(region.Contains(p + 10, nuint.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.AsSpan(990, 11));
    }

    [Fact]
    public void Dispose_unmaps_once_when_raced_from_several_threads()
    {
        using SafeFd memfd = TestMemFds.Create(8192);
        for (int round = 0; round < 20; round++)
        {
            var region = SharedMapping.Map(memfd, 4097, 4000);
            nint p = region.Pointer;
            using var start = new Barrier(4);
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                region.Dispose();
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(10))));

            Assert.True(region.IsDisposed);
            Assert.False(region.Contains(p, 1));
            Assert.Throws<ObjectDisposedException>(() => region.Pointer);
        }
    }

    [Fact]
    public void The_mapping_outlives_the_descriptor()
    {
        SafeFd memfd = TestMemFds.Create(4096);
        using var region = SharedMapping.Map(memfd, 1, 10);
        memfd.Dispose();
        region.AsSpan(0, 10).Fill(3);
        Assert.Equal(3, region.AsSpan(9, 1)[0]);
    }

    [Fact]
    public void The_window_is_aligned_down_and_rounded_up_to_whole_blocks()
    {
        Assert.True(SharedMapping.TryComputeWindow(5000, 100, 4096, out long mapOffset, out nuint delta, out nuint mapLength));
        Assert.Equal(4096, mapOffset);
        Assert.Equal((nuint)904, delta);
        Assert.Equal((nuint)4096, mapLength);

        Assert.True(SharedMapping.TryComputeWindow(TwoMiB + 100, TwoMiB, TwoMiB, out mapOffset, out delta, out mapLength));
        Assert.Equal(TwoMiB, mapOffset);
        Assert.Equal((nuint)100, delta);
        Assert.Equal((nuint)(2 * TwoMiB), mapLength);

        Assert.False(SharedMapping.TryComputeWindow(4095, long.MaxValue - 4095, 4096, out _, out _, out _));
    }

    [SkippableFact]
    public void A_hugetlb_memfd_is_mapped_at_offsets_aligned_to_its_huge_page_size()
    {
        SysResult r = MemFd.TryCreate("hl-unix-huge", MemFd.MFD_CLOEXEC | MemFd.MFD_HUGETLB | MemFd.MFD_HUGE_2MB, 2 * TwoMiB, out SafeFd? fd);
        Hyperlane.Testing.Requires.Check(r.IsSuccess, $"needs hugetlbfs with 2 MiB pages for memfd_create(MFD_HUGETLB): {r.Error}");
        using (fd)
        {
            Assert.Equal(TwoMiB, SharedMapping.BlockAlignment(fd!.Fd));
            SharedMapping region;
            try
            {
                region = SharedMapping.Map(fd, TwoMiB + 100, 1000);
            }
            catch (LinuxException e) when (e.Error == Errno.ENOMEM)
            {
                // No free hugepages to back the mapping: the window was still computed in huge pages.
                Assert.Contains($"from offset {TwoMiB}", e.Message, StringComparison.Ordinal);
                return;
            }

            using (region)
            {
                Assert.Equal(TwoMiB, region.Alignment);
                Assert.Equal(0, (region.Pointer - 100) % TwoMiB);
                region.AsSpan(0, 1000).Fill(1);
            }
        }
    }

    [Fact]
    public void A_regular_memfd_aligns_to_the_base_page_size()
    {
        using SafeFd memfd = TestMemFds.Create(4096);
        Assert.Equal(Mman.PageSize, SharedMapping.BlockAlignment(memfd.Fd));
    }
}
