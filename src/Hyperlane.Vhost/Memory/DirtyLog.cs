using System.Runtime.CompilerServices;

namespace Hyperlane.Vhost.Memory;

/// <summary>
/// The live-migration dirty log set by SET_LOG_BASE (vhost-user.rst "Migration"): a bitmap with one bit per
/// 4096-byte guest-physical page (VHOST_LOG_PAGE), page p at byte p / 8, bit p % 8, that the frontend reads and
/// clears concurrently.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="MarkDirty"/> sets the bits with an atomic read-modify-write on each byte (DPDK: __atomic_fetch_or
/// on bytes), always — never "skip if already set": the atomic operation is also the full fence that orders the
/// guest-memory writes being logged before the bit, so the frontend, which harvests bits with an atomic exchange,
/// either sees the bit after our data or sees it set again on its next pass. Pages beyond the log are not written
/// (the log covers "from address 0 to the maximum of guest regions"); they are counted in
/// <see cref="OutOfRangeMarks"/> (DPDK ignores them silently).
/// </para>
/// <para>
/// The class does not own the mapping: the session maps the log fd, makes a <see cref="DirtyLog"/> over the bitmap
/// (mapping + mmap_offset, mmap_size bytes) and unmaps it only after no thread can still mark.
/// <see cref="MarkDirty"/> never allocates, locks or throws.
/// </para>
/// </remarks>
public sealed unsafe class DirtyLog
{
    /// <summary>VHOST_LOG_PAGE: bytes of guest memory per bit.</summary>
    public const ulong PageSize = 4096;

    private const int PageShift = 12;

    private readonly byte* _bitmap;
    private long _outOfRangeMarks;

    /// <summary>A log over <paramref name="sizeBytes"/> bytes of bitmap at <paramref name="bitmap"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="bitmap"/> is 0 while <paramref name="sizeBytes"/> is not, or the area wraps.</exception>
    public DirtyLog(nint bitmap, ulong sizeBytes)
    {
        if (sizeBytes != 0 && bitmap == 0)
        {
            throw new ArgumentException("A dirty log of non-zero size needs a bitmap address.", nameof(bitmap));
        }

        if (!AddressRange.EndFits((ulong)(nuint)bitmap, sizeBytes))
        {
            throw new ArgumentException($"The dirty log [0x{(ulong)(nuint)bitmap:X}, +0x{sizeBytes:X}) wraps the address space.", nameof(sizeBytes));
        }

        _bitmap = (byte*)bitmap;
        SizeBytes = sizeBytes;

        // 8 pages per byte; a bitmap of 2^49 bytes already covers every 4 KiB page of a 64-bit space.
        PageCount = sizeBytes > (ulong.MaxValue >> 3) ? ulong.MaxValue : sizeBytes << 3;
    }

    /// <summary>Address of the bitmap.</summary>
    public nint Bitmap => (nint)_bitmap;

    /// <summary>Size of the bitmap in bytes.</summary>
    public ulong SizeBytes { get; }

    /// <summary>How many pages the bitmap covers (8 per byte): guest-physical addresses below PageCount * 4096.</summary>
    public ulong PageCount { get; }

    /// <summary>Pages that callers asked to mark but that lie beyond the log (not written).</summary>
    public long OutOfRangeMarks => Interlocked.Read(ref _outOfRangeMarks);

    /// <summary>
    /// Marks every page that [<paramref name="guestPhysAddr"/>, + <paramref name="length"/>) touches as dirty.
    /// Length 0 marks nothing; a range that runs past 2^64 - 1 is cut there.
    /// </summary>
    public void MarkDirty(ulong guestPhysAddr, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        ulong last = length - 1 > ulong.MaxValue - guestPhysAddr ? ulong.MaxValue : guestPhysAddr + (length - 1);
        ulong firstPage = guestPhysAddr >> PageShift;
        ulong lastPage = last >> PageShift;
        if (lastPage >= PageCount)
        {
            ulong beyond = lastPage - Math.Max(firstPage, PageCount) + 1;
            Interlocked.Add(ref _outOfRangeMarks, (long)beyond);
            if (firstPage >= PageCount)
            {
                return;
            }

            lastPage = PageCount - 1;
        }

        ulong firstByte = firstPage >> 3;
        ulong lastByte = lastPage >> 3;
        for (ulong b = firstByte; b <= lastByte; b++)
        {
            int low = b == firstByte ? (int)(firstPage & 7) : 0;
            int high = b == lastByte ? (int)(lastPage & 7) : 7;
            byte mask = (byte)((0xFF << low) & (0xFF >> (7 - high)));
            AtomicOr(ref _bitmap[b], mask);
        }
    }

    /// <summary>Whether the page holding <paramref name="guestPhysAddr"/> is marked (false beyond the log).</summary>
    public bool IsDirty(ulong guestPhysAddr)
    {
        ulong page = guestPhysAddr >> PageShift;
        return page < PageCount && (Volatile.Read(ref _bitmap[page >> 3]) & (1 << (int)(page & 7))) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AtomicOr(ref byte location, byte mask)
    {
        byte seen = Volatile.Read(ref location);
        while (true)
        {
            byte old = Interlocked.CompareExchange(ref location, (byte)(seen | mask), seen);
            if (old == seen)
            {
                return;
            }

            seen = old;
        }
    }
}
