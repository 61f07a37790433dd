using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The memory a frontend shares with its backend: the regions SET_MEM_TABLE lists (at most eight, vhost-user.rst
/// "Multiple Memory regions description"), each a memfd-backed <see cref="MemoryRegion"/> sent by fd. As in DPDK's
/// virtio_user, guest_phys_addr = userspace_addr = the region's virtual address and mmap_offset = 0 (a memfd region
/// maps its file from offset 0), so the address of any byte in these regions is also its guest-physical address.
/// </summary>
/// <remarks>
/// The table is fixed once built. <see cref="Contains"/> is what the transmit path asks of every segment: a packet in
/// memory the backend cannot map would be dropped by it (or worse, read from the wrong place), so it is dropped here.
/// </remarks>
public sealed class FrontendMemoryTable
{
    private readonly MemoryRegion[] _regions;
    private readonly ulong[] _start;
    private readonly ulong[] _end;

    /// <summary>A table of <paramref name="regions"/> (duplicates are listed once).</summary>
    /// <exception cref="ArgumentException">A region is not shareable (anonymous memory), is disposed, or there are more than eight.</exception>
    public FrontendMemoryTable(params ReadOnlySpan<MemoryRegion> regions)
    {
        var list = new List<MemoryRegion>(regions.Length);
        foreach (MemoryRegion r in regions)
        {
            ArgumentNullException.ThrowIfNull(r, nameof(regions));
            if (list.Contains(r))
            {
                continue;
            }

            if (r.IsDisposed)
            {
                throw new ArgumentException($"memory region '{r.Name}' is disposed", nameof(regions));
            }

            if (!r.IsShareable)
            {
                throw new ArgumentException(
                    $"memory region '{r.Name}' is {r.Backing} and cannot be shared with a vhost-user backend; create it (or its mempool) with RegionOptions {{ Shareable = true }}",
                    nameof(regions));
            }

            list.Add(r);
        }

        if (list.Count is 0 or > VhostUserMemory.MaxRegions)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"a vhost-user memory table holds 1 to {VhostUserMemory.MaxRegions} regions, not {list.Count}"),
                nameof(regions));
        }

        _regions = [.. list];
        _start = new ulong[_regions.Length];
        _end = new ulong[_regions.Length];
        for (int i = 0; i < _regions.Length; i++)
        {
            _start[i] = (ulong)_regions[i].Address;
            _end[i] = (ulong)_regions[i].Address + (ulong)_regions[i].Size;
        }
    }

    /// <summary>Number of regions.</summary>
    public int Count => _regions.Length;

    /// <summary>Region <paramref name="index"/>.</summary>
    public MemoryRegion this[int index] => _regions[index];

    /// <summary>Whether [<paramref name="address"/>, + <paramref name="length"/>) lies inside one region.</summary>
    public bool Contains(ulong address, ulong length)
    {
        ulong[] start = _start;
        ulong[] end = _end;
        for (int i = 0; i < start.Length; i++)
        {
            if (address >= start[i] && address < end[i])
            {
                return length <= end[i] - address;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="region"/> is in the table.</summary>
    public bool Contains(MemoryRegion region) => Array.IndexOf(_regions, region) >= 0;

    /// <summary>The SET_MEM_TABLE entry of region <paramref name="index"/>: guest_phys_addr = userspace_addr = its address, mmap_offset 0.</summary>
    public VhostMemoryRegion Describe(int index)
    {
        MemoryRegion r = _regions[index];
        return new VhostMemoryRegion((ulong)r.Address, (ulong)r.Size, (ulong)r.Address, 0);
    }

    /// <summary>The fd of region <paramref name="index"/>, sent in SET_MEM_TABLE's ancillary data.</summary>
    public SafeFd Fd(int index) => _regions[index].Fd!;
}
