using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Hyperlane.Vhost.Memory;

/// <summary>
/// An immutable table of the guest RAM regions the backend has mapped (from SET_MEM_TABLE or ADD/REM_MEM_REG),
/// translating guest-physical and frontend user addresses to host pointers, and host pointers back to
/// guest-physical addresses for the dirty log.
/// </summary>
/// <remarks>
/// <para>
/// A translation succeeds only when the <b>whole</b> range [address, address + length) lies inside <b>one</b>
/// region. Partial or start-only translation is what CVE-2018-1059 exploited (a descriptor whose start is mapped
/// but whose end runs past its region), and range arithmetic that wraps is what CVE-2020-10722 exploited: every
/// sum here is checked, and a range whose end passes 2^64 - 1 is never translated. A buffer that spans two
/// guest-adjacent regions is split by <see cref="TryTranslateChunks"/> (hardening.md VU-09).
/// </para>
/// <para>
/// A zero-length range is never translated (the methods return <see langword="false"/>): there is nothing to
/// access, and a pointer that nobody had to check is how CVE-2020-10725 (a zero-length descriptor with a bogus
/// address) crashed DPDK. Callers skip empty buffers before translating.
/// </para>
/// <para>
/// Lookups are linear over at most <see cref="MaxRegions"/> regions, starting with the region that answered the
/// previous lookup in the same address space. The Translate methods never allocate, lock or throw; several threads
/// may translate at once (the last-hit caches are plain ints, only ever holding valid indexes).
/// </para>
/// </remarks>
public sealed class GuestMemory
{
    /// <summary>The most regions a table holds (8 per SET_MEM_TABLE; more through ADD_MEM_REG).</summary>
    public const int MaxRegions = 32;

    private readonly GuestMemoryRegion[] _regions;
    private int _lastGuestHit;
    private int _lastUserHit;
    private int _lastHostHit;

    private GuestMemory(GuestMemoryRegion[] regions)
    {
        _regions = regions;
    }

    /// <summary>A table without regions: every translation fails.</summary>
    public static GuestMemory Empty { get; } = new([]);

    /// <summary>The number of regions.</summary>
    public int Count => _regions.Length;

    /// <summary>The regions, in the order they were given.</summary>
    public ReadOnlySpan<GuestMemoryRegion> Regions => _regions;

    /// <summary>
    /// Builds a table after checking every region: non-empty; guest, user, host and mapping ranges inside u64;
    /// host and mapping addresses not 0; the region inside its mapping; no two regions overlapping in guest-physical
    /// or in user address space; at most <see cref="MaxRegions"/>.
    /// </summary>
    /// <returns><see langword="true"/> with the table; otherwise <see langword="false"/> and what is wrong.</returns>
    public static bool TryCreate(
        ReadOnlySpan<GuestMemoryRegion> regions, [NotNullWhen(true)] out GuestMemory? memory, [NotNullWhen(false)] out string? error)
    {
        memory = null;
        if (regions.Length > MaxRegions)
        {
            error = $"{regions.Length} regions, at most {MaxRegions}";
            return false;
        }

        for (int i = 0; i < regions.Length; i++)
        {
            if (!CheckRegion(i, regions[i], out error))
            {
                return false;
            }

            for (int j = 0; j < i; j++)
            {
                GuestMemoryRegion a = regions[j], b = regions[i];
                if (AddressRange.Overlap(a.GuestPhysAddr, a.Size, b.GuestPhysAddr, b.Size))
                {
                    error = $"region {i} ({b}) overlaps region {j} ({a}) in guest-physical space";
                    return false;
                }

                if (AddressRange.Overlap(a.UserAddr, a.Size, b.UserAddr, b.Size))
                {
                    error = $"region {i} ({b}) overlaps region {j} ({a}) in user address space";
                    return false;
                }
            }
        }

        memory = regions.Length == 0 ? Empty : new GuestMemory(regions.ToArray());
        error = null;
        return true;
    }

    /// <summary>
    /// Translates the guest-physical range [<paramref name="guestPhysAddr"/>, + <paramref name="length"/>) when it
    /// lies wholly inside one region.
    /// </summary>
    /// <returns><see langword="false"/> (and 0) when the range is empty, wraps, or is not wholly inside one region.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTranslateGuestPhysical(ulong guestPhysAddr, ulong length, out nint hostAddr)
    {
        GuestMemoryRegion[] regions = _regions;
        int i = Find(regions, AddressSpace.GuestPhysical, guestPhysAddr, length, ref _lastGuestHit, out ulong offset);
        hostAddr = i < 0 ? 0 : HostAt(regions[i], offset);
        return i >= 0;
    }

    /// <summary>
    /// Translates the frontend user-address range [<paramref name="userAddr"/>, + <paramref name="length"/>) (the
    /// vring addresses of SET_VRING_ADDR without VIRTIO_F_ACCESS_PLATFORM) when it lies wholly inside one region.
    /// </summary>
    /// <returns><see langword="false"/> (and 0) when the range is empty, wraps, or is not wholly inside one region.</returns>
    public bool TryTranslateUser(ulong userAddr, ulong length, out nint hostAddr)
    {
        GuestMemoryRegion[] regions = _regions;
        int i = Find(regions, AddressSpace.User, userAddr, length, ref _lastUserHit, out ulong offset);
        hostAddr = i < 0 ? 0 : HostAt(regions[i], offset);
        return i >= 0;
    }

    /// <summary>
    /// Translates the host range [<paramref name="hostAddr"/>, + <paramref name="length"/>) back to guest-physical
    /// (to log writes we made through a host pointer) when it lies wholly inside one region.
    /// </summary>
    /// <returns><see langword="false"/> (and 0) when the range is empty, wraps, or is not wholly inside one region.</returns>
    public bool TryTranslateHostToGuestPhysical(nint hostAddr, ulong length, out ulong guestPhysAddr)
    {
        GuestMemoryRegion[] regions = _regions;
        int i = Find(regions, AddressSpace.Host, (ulong)(nuint)hostAddr, length, ref _lastHostHit, out ulong offset);
        guestPhysAddr = i < 0 ? 0 : regions[i].GuestPhysAddr + offset;
        return i >= 0;
    }

    /// <summary>
    /// Translates a guest-physical range that may cross from one region into a guest-adjacent one (e.g. a buffer
    /// over a memory hot-plug boundary) into at most <paramref name="chunks"/>.Length host pieces, for copy paths.
    /// Pieces that are also adjacent on the host are merged. Every byte of the range must be mapped.
    /// </summary>
    /// <param name="guestPhysAddr">Start of the range.</param>
    /// <param name="length">Length of the range (not 0).</param>
    /// <param name="chunks">Where the pieces go, in address order.</param>
    /// <param name="count">How many pieces were written (0 on failure).</param>
    /// <returns><see langword="false"/> when the range is empty, wraps, has an unmapped byte, or needs more pieces than <paramref name="chunks"/> holds.</returns>
    public bool TryTranslateChunks(ulong guestPhysAddr, ulong length, Span<GuestMemoryChunk> chunks, out int count)
    {
        count = 0;
        if (length == 0 || !AddressRange.EndFits(guestPhysAddr, length))
        {
            return false;
        }

        GuestMemoryRegion[] regions = _regions;
        ulong address = guestPhysAddr;
        ulong remaining = length;
        int n = 0;
        while (remaining != 0)
        {
            int found = FindGuestRegion(regions, address, out ulong offset);
            if (found < 0)
            {
                return false;
            }

            ulong piece = Math.Min(remaining, regions[found].Size - offset);
            nint host = HostAt(regions[found], offset);
            if (n > 0 && (ulong)(nuint)chunks[n - 1].HostAddr + chunks[n - 1].Length == (ulong)(nuint)host)
            {
                chunks[n - 1] = new GuestMemoryChunk(chunks[n - 1].HostAddr, chunks[n - 1].Length + piece);
            }
            else
            {
                if (n == chunks.Length)
                {
                    return false;
                }

                chunks[n++] = new GuestMemoryChunk(host, piece);
            }

            address += piece;
            remaining -= piece;
        }

        count = n;
        return true;
    }

    /// <summary>
    /// The index of the region whose <paramref name="space"/> range wholly holds [<paramref name="address"/>, +
    /// <paramref name="length"/>), or -1: the last hit (<paramref name="hint"/>) first, inline (the data path
    /// translates every descriptor), then every region in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Find(GuestMemoryRegion[] regions, AddressSpace space, ulong address, ulong length, ref int hint, out ulong offset)
    {
        int h = hint;
        if ((uint)h < (uint)regions.Length && AddressRange.Contains(Start(regions[h], space), regions[h].Size, address, length, out offset))
        {
            return h;
        }

        return Scan(regions, space, address, length, ref hint, out offset);
    }

    private static int Scan(GuestMemoryRegion[] regions, AddressSpace space, ulong address, ulong length, ref int hint, out ulong offset)
    {
        for (int i = 0; i < regions.Length; i++)
        {
            if (AddressRange.Contains(Start(regions[i], space), regions[i].Size, address, length, out offset))
            {
                hint = i;
                return i;
            }
        }

        offset = 0;
        return -1;
    }

    private static ulong Start(in GuestMemoryRegion region, AddressSpace space) => space switch
    {
        AddressSpace.GuestPhysical => region.GuestPhysAddr,
        AddressSpace.User => region.UserAddr,
        _ => (ulong)(nuint)region.HostAddr,
    };

    /// <summary>The index of the region holding guest-physical <paramref name="address"/>, or -1.</summary>
    private int FindGuestRegion(GuestMemoryRegion[] regions, ulong address, out ulong offset)
    {
        int hint = _lastGuestHit;
        if ((uint)hint < (uint)regions.Length && AddressRange.ContainsAddress(regions[hint].GuestPhysAddr, regions[hint].Size, address, out offset))
        {
            return hint;
        }

        for (int i = 0; i < regions.Length; i++)
        {
            if (AddressRange.ContainsAddress(regions[i].GuestPhysAddr, regions[i].Size, address, out offset))
            {
                _lastGuestHit = i;
                return i;
            }
        }

        offset = 0;
        return -1;
    }

    private static nint HostAt(in GuestMemoryRegion region, ulong offset) => (nint)((nuint)region.HostAddr + (nuint)offset);

    private static bool CheckRegion(int i, in GuestMemoryRegion r, [NotNullWhen(false)] out string? error)
    {
        ulong host = (ulong)(nuint)r.HostAddr;
        ulong mapping = (ulong)(nuint)r.MappingAddr;
        if (r.Size == 0)
        {
            error = $"region {i} ({r}) has size 0";
        }
        else if (!AddressRange.EndFits(r.GuestPhysAddr, r.Size))
        {
            error = $"region {i} ({r}): guest address + size overflows u64";
        }
        else if (!AddressRange.EndFits(r.UserAddr, r.Size))
        {
            error = $"region {i} ({r}): user address + size overflows u64";
        }
        else if (host == 0 || mapping == 0)
        {
            error = $"region {i} ({r}): no host mapping";
        }
        else if (!AddressRange.EndFits(mapping, r.MappingLength) || !AddressRange.Contains(mapping, r.MappingLength, host, r.Size, out _))
        {
            error = $"region {i} ({r}) does not lie inside its mapping [0x{mapping:X}, +0x{r.MappingLength:X})";
        }
        else
        {
            error = null;
            return true;
        }

        return false;
    }
}
