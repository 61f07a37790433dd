using System.Runtime.InteropServices;
using Hyperlane.Vhost.Memory;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// <see cref="GuestMemory"/>: whole-range translation only (CVE-2018-1059), overflow at the top of the address
/// space (CVE-2020-10722), zero length (CVE-2020-10725), split over adjacent regions (hardening.md VU-09).
/// Host addresses are made up: translation is arithmetic and never dereferences them.
/// </summary>
public class GuestMemoryTests
{
    // A QEMU-like layout: low RAM below the 640 KiB hole, then two guest-adjacent regions (a DIMM boundary)
    // that are not adjacent on the host.
    private static readonly GuestMemoryRegion Low = Make(0x0, 0xA0000, 0x7F00_0000_0000, 0x1_0000_0000);
    private static readonly GuestMemoryRegion Mid = Make(0x100000, 0x100000, 0x7F00_0010_0000, 0x2_0000_0000);
    private static readonly GuestMemoryRegion Top = Make(0x200000, 0x100000, 0x7F00_0100_0000, 0x3_0000_0000);

    private static nint H(long address) => (nint)address;

    private static GuestMemoryRegion Make(ulong gpa, ulong size, ulong user, long host) =>
        new(gpa, size, user, (nint)host, (nint)host, size);

    private static GuestMemory Create(params GuestMemoryRegion[] regions)
    {
        Assert.True(GuestMemory.TryCreate(regions, out var memory, out var error), error);
        return memory!;
    }

    private static string Refuse(params GuestMemoryRegion[] regions)
    {
        Assert.False(GuestMemory.TryCreate(regions, out var memory, out var error));
        Assert.Null(memory);
        return error!;
    }

    private static GuestMemory Standard() => Create(Low, Mid, Top);

    [Theory]
    [InlineData(0x0UL, 1UL, 0x1_0000_0000L)]
    [InlineData(0x0UL, 0xA0000UL, 0x1_0000_0000L)]               // the whole region
    [InlineData(0x9FFFFUL, 1UL, 0x1_0009_FFFFL)]                 // its last byte
    [InlineData(0x123456UL, 0x800UL, 0x2_0002_3456L)]
    [InlineData(0x200000UL, 0x100000UL, 0x3_0000_0000L)]
    public void Range_inside_one_region_is_translated(ulong gpa, ulong length, long expected)
    {
        Assert.True(Standard().TryTranslateGuestPhysical(gpa, length, out nint host));
        Assert.Equal((nint)expected, host);
    }

    [Theory]
    [InlineData(0x1FFFFFUL, 2UL)]      // Mid's last byte + Top's first
    [InlineData(0x100000UL, 0x200000UL)] // both regions whole
    public void Range_crossing_into_an_adjacent_region_is_not_translated(ulong gpa, ulong length)
    {
        Assert.False(Standard().TryTranslateGuestPhysical(gpa, length, out nint host));
        Assert.Equal(0, host);
    }

    [Theory]
    [InlineData(0x9FFFFUL, 2UL)]       // runs one byte past Low into the hole
    [InlineData(0x2FFFFFUL, 2UL)]      // runs past the end of guest memory
    [InlineData(0xA0000UL, 1UL)]       // starts in the hole
    [InlineData(0x300000UL, 1UL)]      // starts after the end
    [InlineData(0x0UL, 0xA0001UL)]     // one byte longer than the region
    public void Range_exceeding_or_outside_the_regions_is_not_translated(ulong gpa, ulong length)
    {
        Assert.False(Standard().TryTranslateGuestPhysical(gpa, length, out _));
    }

    [Fact]
    public void Zero_length_is_never_translated()
    {
        GuestMemory m = Standard();
        Assert.False(m.TryTranslateGuestPhysical(0x1000, 0, out _));
        Assert.False(m.TryTranslateUser(0x7F00_0000_1000, 0, out _));
        Assert.False(m.TryTranslateHostToGuestPhysical(H(0x1_0000_1000), 0, out _));
        Assert.False(m.TryTranslateChunks(0x1000, 0, new GuestMemoryChunk[4], out int count));
        Assert.Equal(0, count);
    }

    [Fact]
    public void Ranges_that_wrap_the_top_of_the_address_space_are_not_translated()
    {
        // The highest region a table accepts ends at 2^64 - 1 (exclusive end still representable).
        GuestMemoryRegion top = new(0xFFFF_FFFF_FFFF_0000, 0xFFFF, 0x7F00_0000_0000, H(0x1_0000_0000), H(0x1_0000_0000), 0xFFFF);
        GuestMemory m = Create(top);
        Assert.True(m.TryTranslateGuestPhysical(0xFFFF_FFFF_FFFF_FFFE, 1, out nint host));
        Assert.Equal(H(0x1_0000_FFFE), host);
        Assert.False(m.TryTranslateGuestPhysical(0xFFFF_FFFF_FFFF_FFFE, 2, out _));
        Assert.False(m.TryTranslateGuestPhysical(0xFFFF_FFFF_FFFF_FFF0, 0x20, out _));
        Assert.False(m.TryTranslateGuestPhysical(0xFFFF_FFFF_FFFF_0000, ulong.MaxValue, out _));
        Assert.False(m.TryTranslateGuestPhysical(ulong.MaxValue, ulong.MaxValue, out _));
        Assert.False(m.TryTranslateChunks(0xFFFF_FFFF_FFFF_FFF0, 0x20, new GuestMemoryChunk[4], out _));
        Assert.False(m.TryTranslateUser(0x7F00_0000_0001, ulong.MaxValue, out _));
    }

    [Fact]
    public void Region_whose_end_would_overflow_is_refused()
    {
        Assert.Contains("guest address", Refuse(new GuestMemoryRegion(ulong.MaxValue - 10, 11, 0x1000, 0x1000, 0x1000, 11)), StringComparison.Ordinal);
        Assert.Contains("user address", Refuse(new GuestMemoryRegion(0, 0x1000, ulong.MaxValue - 0xFFF, 0x1000, 0x1000, 0x1000)), StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_length_from_a_valid_start_is_not_translated()
    {
        Assert.False(Standard().TryTranslateGuestPhysical(0x100, ulong.MaxValue, out _));
        Assert.False(Standard().TryTranslateGuestPhysical(0x100, ulong.MaxValue - 0xFF, out _));
    }

    [Fact]
    public void User_addresses_translate_within_one_region()
    {
        GuestMemory m = Standard();
        Assert.True(m.TryTranslateUser(0x7F00_0010_0010, 0x10, out nint host));
        Assert.Equal(H(0x2_0000_0010), host);
        Assert.True(m.TryTranslateUser(0x7F00_0000_0000, 0xA0000, out host));
        Assert.Equal(H(0x1_0000_0000), host);
        Assert.False(m.TryTranslateUser(0x7F00_0000_0000, 0xA0001, out _));          // past Low's end
        Assert.False(m.TryTranslateUser(0x7F00_001F_FFFF, 2, out _));                 // past Mid's end (user space is not contiguous with Top)
        Assert.False(m.TryTranslateUser(0x100000, 0x10, out _));                      // a guest-physical address is not a user address
    }

    [Fact]
    public void Host_addresses_translate_back_to_guest_physical()
    {
        GuestMemory m = Standard();
        Assert.True(m.TryTranslateHostToGuestPhysical(H(0x3_0000_1234), 0x10, out ulong gpa));
        Assert.Equal(0x201234UL, gpa);
        Assert.True(m.TryTranslateHostToGuestPhysical(H(0x1_0009_FFFF), 1, out gpa));
        Assert.Equal(0x9FFFFUL, gpa);
        Assert.False(m.TryTranslateHostToGuestPhysical(H(0x1_0009_FFFF), 2, out gpa));
        Assert.Equal(0UL, gpa);
        Assert.False(m.TryTranslateHostToGuestPhysical(H(0x4_0000_0000), 1, out _));
    }

    [Fact]
    public void Round_trip_guest_to_host_to_guest()
    {
        GuestMemory m = Standard();
        foreach (ulong gpa in new ulong[] { 0, 0x5000, 0x9FFF0, 0x100000, 0x1FFFF0, 0x2ABCDE })
        {
            Assert.True(m.TryTranslateGuestPhysical(gpa, 16, out nint host));
            Assert.True(m.TryTranslateHostToGuestPhysical(host, 16, out ulong back));
            Assert.Equal(gpa, back);
        }
    }

    [Fact]
    public void Range_over_guest_adjacent_regions_splits_into_chunks()
    {
        Span<GuestMemoryChunk> chunks = stackalloc GuestMemoryChunk[4];
        Assert.True(Standard().TryTranslateChunks(0x1FFF00, 0x200, chunks, out int count));
        Assert.Equal(2, count);
        Assert.Equal(H(0x2_000F_FF00), chunks[0].HostAddr);
        Assert.Equal(0x100UL, chunks[0].Length);
        Assert.Equal(H(0x3_0000_0000), chunks[1].HostAddr);
        Assert.Equal(0x100UL, chunks[1].Length);
    }

    [Fact]
    public void Range_inside_one_region_is_one_chunk()
    {
        Span<GuestMemoryChunk> chunks = stackalloc GuestMemoryChunk[1];
        Assert.True(Standard().TryTranslateChunks(0x1000, 0x1000, chunks, out int count));
        Assert.Equal(1, count);
        Assert.Equal(H(0x1_0000_1000), chunks[0].HostAddr);
        Assert.Equal(0x1000UL, chunks[0].Length);
    }

    [Fact]
    public void Chunks_adjacent_on_the_host_are_merged()
    {
        GuestMemory m = Create(Make(0, 0x1000, 0x10000, 0x5000_0000), Make(0x1000, 0x1000, 0x20000, 0x5000_1000));
        Span<GuestMemoryChunk> chunks = stackalloc GuestMemoryChunk[1];
        Assert.True(m.TryTranslateChunks(0x800, 0x1000, chunks, out int count));
        Assert.Equal(1, count);
        Assert.Equal(H(0x5000_0800), chunks[0].HostAddr);
        Assert.Equal(0x1000UL, chunks[0].Length);
    }

    [Fact]
    public void Chunks_fail_on_a_hole_or_when_they_do_not_fit()
    {
        GuestMemory m = Standard();
        Assert.False(m.TryTranslateChunks(0x9F000, 0x70000, new GuestMemoryChunk[8], out int count));  // Low, then the hole
        Assert.Equal(0, count);
        Assert.False(m.TryTranslateChunks(0x2FFF00, 0x200, new GuestMemoryChunk[8], out _));           // past the end
        Assert.False(m.TryTranslateChunks(0x1FFF00, 0x200, new GuestMemoryChunk[1], out count));       // needs 2
        Assert.Equal(0, count);
    }

    [Fact]
    public void Table_refuses_bad_regions()
    {
        Assert.Contains("size 0", Refuse(Make(0, 0, 0x1000, 0x1000)), StringComparison.Ordinal);
        Assert.Contains("guest-physical", Refuse(Low, Make(0x9F000, 0x2000, 0x7F00_1000_0000, 0x9_0000_0000)), StringComparison.Ordinal);
        Assert.Contains("user address", Refuse(Low, Make(0x100000, 0x2000, 0x7F00_0000_1000, 0x9_0000_0000)), StringComparison.Ordinal);
        Assert.Contains("no host mapping", Refuse(new GuestMemoryRegion(0, 0x1000, 0x1000, 0, 0, 0x1000)), StringComparison.Ordinal);
        Assert.Contains("inside its mapping", Refuse(new GuestMemoryRegion(0, 0x2000, 0x1000, 0x10000, 0x10000, 0x1000)), StringComparison.Ordinal);
        Assert.Contains("inside its mapping", Refuse(new GuestMemoryRegion(0, 0x1000, 0x1000, 0x0F000, 0x10000, 0x2000)), StringComparison.Ordinal);
        Assert.Contains("inside its mapping", Refuse(new GuestMemoryRegion(0, 0x1000, 0x1000, -4096, -8192, 0x3000)), StringComparison.Ordinal);

        var many = new GuestMemoryRegion[GuestMemory.MaxRegions + 1];
        for (int i = 0; i < many.Length; i++)
        {
            many[i] = Make((ulong)i << 20, 0x1000, 0x7F00_0000_0000 + ((ulong)i << 20), 0x1_0000_0000 + ((long)i << 20));
        }

        Assert.Contains("at most 32", Refuse(many), StringComparison.Ordinal);
        Assert.True(GuestMemory.TryCreate(many.AsSpan(0, GuestMemory.MaxRegions), out _, out _));
    }

    [Fact]
    public void Region_with_an_offset_inside_its_mapping_is_accepted()
    {
        // DPDK-style: the fd mapped from offset 0, the region starting mmap_offset bytes in.
        GuestMemory m = Create(new GuestMemoryRegion(0x100000, 0x1000, 0x7F00_0000_0000, 0x5000_2000, 0x5000_0000, 0x3000));
        Assert.True(m.TryTranslateGuestPhysical(0x100FFF, 1, out nint host));
        Assert.Equal(H(0x5000_2FFF), host);
    }

    [Fact]
    public void Empty_table_translates_nothing()
    {
        Assert.True(GuestMemory.TryCreate([], out var m, out _));
        Assert.Same(GuestMemory.Empty, m);
        Assert.Equal(0, m!.Count);
        Assert.False(m.TryTranslateGuestPhysical(0, 1, out _));
        Assert.False(m.TryTranslateUser(0, 1, out _));
        Assert.False(m.TryTranslateHostToGuestPhysical(1, 1, out _));
        Assert.False(m.TryTranslateChunks(0, 1, new GuestMemoryChunk[1], out _));
    }

    [Fact]
    public void Alternating_lookups_stay_correct_with_the_last_hit_cache()
    {
        GuestMemory m = Standard();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(m.TryTranslateGuestPhysical(0x10, 1, out nint a));
            Assert.Equal(H(0x1_0000_0010), a);
            Assert.True(m.TryTranslateGuestPhysical(0x200010, 1, out nint c));
            Assert.Equal(H(0x3_0000_0010), c);
            Assert.False(m.TryTranslateGuestPhysical(0x200010, 0x100000, out _)); // the cached region, but too long
            Assert.True(m.TryTranslateGuestPhysical(0x100010, 1, out nint b));
            Assert.Equal(H(0x2_0000_0010), b);
        }
    }

    [Fact]
    public void Random_ranges_agree_with_a_byte_by_byte_model()
    {
        GuestMemoryRegion[] regions = [Low, Mid, Top, Make(0xFFFF_FFFF_0000_0000, 0x1_0000, 0x7E00_0000_0000, 0x6_0000_0000)];
        GuestMemory m = Create(regions);
        var random = new Random(42);
        Span<GuestMemoryChunk> chunks = stackalloc GuestMemoryChunk[4];
        for (int i = 0; i < 50_000; i++)
        {
            GuestMemoryRegion near = regions[random.Next(regions.Length)];
            ulong gpa = random.Next(4) switch
            {
                0 => near.GuestPhysAddr + (ulong)random.Next(-64, 64),
                1 => near.GuestPhysAddr + near.Size + (ulong)random.Next(-64, 64),
                2 => near.GuestPhysAddr + (ulong)random.NextInt64((long)near.Size),
                _ => (ulong)random.NextInt64(),
            };
            ulong length = random.Next(4) switch
            {
                0 => (ulong)random.Next(0, 3),
                1 => (ulong)random.Next(0, 0x300000),
                2 => ulong.MaxValue - (ulong)random.Next(0, 3),
                _ => (ulong)random.NextInt64(),
            };

            // Model: the range is translatable iff one region contains both its first and its last byte.
            bool expected = false;
            nint expectedHost = 0;
            if (length != 0 && length - 1 <= ulong.MaxValue - gpa)
            {
                ulong last = gpa + (length - 1);
                foreach (var r in regions)
                {
                    if (gpa >= r.GuestPhysAddr && last <= r.GuestPhysAddr + (r.Size - 1))
                    {
                        expected = true;
                        expectedHost = (nint)((ulong)r.HostAddr + (gpa - r.GuestPhysAddr));
                    }
                }
            }

            Assert.Equal(expected, m.TryTranslateGuestPhysical(gpa, length, out nint host));
            Assert.Equal(expectedHost, host);
            if (expected)
            {
                Assert.True(m.TryTranslateChunks(gpa, length, chunks, out int count));
                Assert.Equal(1, count);
                Assert.Equal(expectedHost, chunks[0].HostAddr);
                Assert.Equal(length, chunks[0].Length);
            }
        }
    }

    [Fact]
    public void Translation_allocates_nothing()
    {
        GuestMemory m = Standard();
        var chunks = new GuestMemoryChunk[4];
        using var probe = new AllocationProbe(); // a thread that allocates nothing else (see its remarks)
        Action warmUp = () => Exercise(m, chunks, 10_000);
        Action measured = () => Exercise(m, chunks, 1_000_000);
        probe.Measure(warmUp); // JIT, tiering
        probe.Measure(warmUp);
        probe.Reset();
        probe.Measure(measured);
        Assert.Equal(0, probe.Allocated);
    }

    [Fact]
    public void Translated_pointers_reach_real_memory()
    {
        byte[] backing = GC.AllocateArray<byte>(0x2000, pinned: true);
        nint host = Marshal.UnsafeAddrOfPinnedArrayElement(backing, 0);
        GuestMemory m = Create(new GuestMemoryRegion(0x4000_0000, 0x2000, 0x7F00_0000_0000, host, host, 0x2000));
        Assert.True(m.TryTranslateGuestPhysical(0x4000_1000, 4, out nint p));
        Marshal.WriteInt32(p, 0x01020304);
        Assert.Equal(0x04, backing[0x1000]);
        Assert.Equal(0x01, backing[0x1003]);
    }

    private static void Exercise(GuestMemory m, GuestMemoryChunk[] chunks, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            m.TryTranslateGuestPhysical((ulong)(i & 0xFFFF), 64, out _);
            m.TryTranslateGuestPhysical(0x100000 + (ulong)(i & 0xFFFF), 64, out _);
            m.TryTranslateUser(0x7F00_0100_0000 + (ulong)(i & 0xFFFF), 64, out _);
            m.TryTranslateHostToGuestPhysical(H(0x2_0000_0000) + (i & 0xFFFF), 64, out _);
            m.TryTranslateChunks(0x1FFF00, 0x200, chunks, out _);
            m.TryTranslateGuestPhysical(0xA0000, 1, out _);
        }
    }
}
