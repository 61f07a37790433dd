using System.Globalization;
using Hyperlane.Memory;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The shared memory that holds a frontend's virtqueues (descriptor tables or rings, available and used rings or
/// event suppression areas, the zero virtio-net header transmit descriptors point at). One memfd-backed
/// <see cref="MemoryRegion"/> for all queues, so it takes one slot of the eight a vhost-user memory table has; it is
/// handed to the backend by SET_MEM_TABLE like the mempools, and its addresses are the user (and guest-physical)
/// addresses SET_VRING_ADDR gives (IOVA = VA, as DPDK's virtio_user does).
/// </summary>
public sealed class DriverRingArea : IDisposable
{
    private long _used;

    private DriverRingArea(MemoryRegion region) => Region = region;

    /// <summary>The memfd-backed region.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Bytes not yet reserved.</summary>
    public long Remaining => Region.Size - _used;

    /// <summary>
    /// Creates an area of at least <paramref name="bytes"/> bytes: a shareable memfd (hugetlb when hugepages are
    /// free, else 4 KiB pages), zeroed.
    /// </summary>
    public static DriverRingArea Create(string name, long bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        return new DriverRingArea(MemoryRegion.Create(name, bytes, new RegionOptions { Shareable = true }));
    }

    /// <summary>
    /// Reserves <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two) and returns
    /// their address. The bytes stay reserved for the area's lifetime.
    /// </summary>
    /// <exception cref="InvalidOperationException">The area is full.</exception>
    public nint Reserve(long size, int alignment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "an alignment is a power of two");
        }

        long start = AlignUp((long)Region.Address + _used, alignment) - (long)Region.Address;
        if (start > Region.Size - size)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"ring area '{Region.Name}' is full: {size} bytes (aligned to {alignment}) do not fit in the {Region.Size - _used} bytes left of {Region.Size}"));
        }

        _used = start + size;
        return Region.Address + (nint)start;
    }

    /// <summary>Unmaps the area. The backend's own mapping of the memfd stays valid until it unmaps it.</summary>
    public void Dispose() => Region.Dispose();

    internal static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}
