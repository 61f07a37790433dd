using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// The frontend's memory as SET_MEM_TABLE described it: one <see cref="SharedMapping"/> per region (its fd mapped
/// read-write, shared, from the region's mmap_offset for memory_size bytes) and the <see cref="GuestMemory"/>
/// translating into them. Disposing unmaps every region: the session does it only once no queue can use them.
/// </summary>
/// <remarks>
/// DPDK maps each fd from offset 0 for mmap_offset + memory_size bytes and points the region at + mmap_offset (old
/// kernels refused hugetlbfs offsets that are not huge-page aligned). <see cref="SharedMapping"/> maps from the
/// offset rounded down to the file's block size (the huge page size on hugetlbfs) instead, so the bytes before the
/// region are not mapped, and it refuses a region that goes past the end of a regular file (memfd, hugetlbfs, shm)
/// before touching it: no SIGBUS on first access.
/// </remarks>
internal sealed class VhostMemoryTable : IDisposable
{
    private readonly SharedMapping[] _mappings;
    private readonly VhostMemoryRegion[] _regions;

    private VhostMemoryTable(SharedMapping[] mappings, VhostMemoryRegion[] regions, GuestMemory memory)
    {
        _mappings = mappings;
        _regions = regions;
        Memory = memory;
    }

    /// <summary>The translation table over the mappings.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The number of regions.</summary>
    public int Count => _regions.Length;

    /// <summary>The end of the highest region in guest-physical space (what a dirty log must cover).</summary>
    public ulong GuestPhysicalEnd
    {
        get
        {
            ulong end = 0;
            foreach (VhostMemoryRegion r in _regions)
            {
                end = Math.Max(end, r.GuestPhysAddr + r.MemorySize);
            }

            return end;
        }
    }

    /// <summary>
    /// Maps every region with its fd (<paramref name="fds"/>[i] for region i; the caller still owns and closes them:
    /// a mapping outlives its fd).
    /// </summary>
    /// <exception cref="VhostUserProtocolException">A region cannot be mapped (the fd is not mappable, read-only, too short...); nothing stays mapped.</exception>
    public static VhostMemoryTable Map(ReadOnlySpan<VhostMemoryRegion> regions, IReadOnlyList<SafeFd> fds)
    {
        if (fds.Count != regions.Length)
        {
            throw new VhostUserProtocolException(string.Create(CultureInfo.InvariantCulture, $"{fds.Count} fds for {regions.Length} regions"));
        }

        var mappings = new SharedMapping[regions.Length];
        var guest = new GuestMemoryRegion[regions.Length];
        int mapped = 0;
        try
        {
            for (int i = 0; i < regions.Length; i++)
            {
                VhostMemoryRegion r = regions[i];
                if (r.MmapOffset > long.MaxValue || r.MemorySize > (ulong)(long.MaxValue - (long)r.MmapOffset))
                {
                    throw new VhostUserProtocolException(string.Create(CultureInfo.InvariantCulture, $"region {i} {Describe(r)} does not fit a file offset"));
                }

                try
                {
                    mappings[i] = SharedMapping.Map(fds[i], (long)r.MmapOffset, (long)r.MemorySize, writable: true);
                }
                catch (Exception ex) when (ex is ArgumentException or LinuxException)
                {
                    throw new VhostUserProtocolException(string.Create(CultureInfo.InvariantCulture, $"region {i} {Describe(r)} cannot be mapped: {ex.Message}"), ex);
                }

                mapped++;
                nint host = mappings[i].Pointer;
                guest[i] = new GuestMemoryRegion(r.GuestPhysAddr, r.MemorySize, r.UserspaceAddr, host, host, r.MemorySize);
            }

            if (!GuestMemory.TryCreate(guest, out GuestMemory? memory, out string? error))
            {
                throw new VhostUserProtocolException($"the regions do not make a memory table: {error}");
            }

            return new VhostMemoryTable(mappings, regions.ToArray(), memory);
        }
        catch
        {
            for (int i = 0; i < mapped; i++)
            {
                mappings[i].Dispose();
            }

            throw;
        }
    }

    /// <summary>Whether <paramref name="regions"/> describe exactly this table (DPDK: an unchanged table is kept as it is).</summary>
    public bool IsSameLayout(ReadOnlySpan<VhostMemoryRegion> regions)
    {
        if (regions.Length != _regions.Length)
        {
            return false;
        }

        for (int i = 0; i < regions.Length; i++)
        {
            VhostMemoryRegion a = regions[i], b = _regions[i];
            if (a.GuestPhysAddr != b.GuestPhysAddr || a.MemorySize != b.MemorySize || a.UserspaceAddr != b.UserspaceAddr || a.MmapOffset != b.MmapOffset)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Unmaps every region.</summary>
    public void Dispose()
    {
        foreach (SharedMapping m in _mappings)
        {
            m.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new string[_regions.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Describe(_regions[i]);
        }

        return string.Join(", ", parts);
    }

    internal static string Describe(in VhostMemoryRegion r) => string.Create(
        CultureInfo.InvariantCulture,
        $"(gpa 0x{r.GuestPhysAddr:X}, size 0x{r.MemorySize:X}, user 0x{r.UserspaceAddr:X}, mmap offset 0x{r.MmapOffset:X})");
}
