namespace Hyperlane.Vhost;

/// <summary>
/// Overflow-safe arithmetic on [start, start + size) ranges of a 64-bit address space. A range is valid only if
/// its exclusive end is representable (start + size &lt;= 2^64 - 1): no sum here ever wraps.
/// </summary>
internal static class AddressRange
{
    /// <summary>Whether start + size does not overflow u64.</summary>
    public static bool EndFits(ulong start, ulong size) => size <= ulong.MaxValue - start;

    /// <summary>Whether two valid, non-empty ranges share at least one address.</summary>
    public static bool Overlap(ulong aStart, ulong aSize, ulong bStart, ulong bSize) =>
        aStart < bStart + bSize && bStart < aStart + aSize;

    /// <summary>
    /// Whether [addr, addr + length) lies wholly inside the valid range [start, start + size); length 0 never does.
    /// On success <paramref name="offset"/> is addr - start.
    /// </summary>
    public static bool Contains(ulong start, ulong size, ulong addr, ulong length, out ulong offset)
    {
        offset = addr - start;
        return length != 0 && addr >= start && offset < size && length <= size - offset;
    }

    /// <summary>Whether the address <paramref name="addr"/> lies inside [start, start + size); on success <paramref name="offset"/> is addr - start.</summary>
    public static bool ContainsAddress(ulong start, ulong size, ulong addr, out ulong offset)
    {
        offset = addr - start;
        return addr >= start && offset < size;
    }
}
