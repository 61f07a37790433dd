using System.Globalization;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// A MAP_SHARED mapping of part of a file descriptor, typically a memory region a vhost-user peer sent
/// (memfd, hugetlbfs file or /dev/shm file) with an offset and a size from its message. The offset need not
/// be page-aligned: the mapping starts at the offset rounded down to the page size (the huge page size on
/// hugetlbfs) and <see cref="Pointer"/> points at the requested offset.
/// </summary>
/// <remarks>
/// Before mapping a regular file (memfd included) the region is checked against the file's size, so a peer
/// that sends a short file is refused instead of causing SIGBUS on first touch. A peer that shrinks the file
/// afterwards still can (unless it was sealed with F_SEAL_SHRINK). The mapping stays valid after the
/// descriptor is closed. <see cref="Dispose"/> unmaps exactly once, from any thread; there is no finalizer:
/// unmapping memory a thread may still read must be an explicit decision.
/// </remarks>
public sealed unsafe class SharedMapping : IDisposable
{
    /// <summary>f_type of hugetlbfs (linux/magic.h), whose files map only at huge-page-aligned offsets.</summary>
    private const long HUGETLBFS_MAGIC = 0x958458f6;

    private const int StatfsBufferSize = 256; // struct statfs: 120 bytes on 64-bit targets

    private readonly nuint _mappedLength;
    private readonly nuint _delta;
    private nint _base; // the mapping's start (aligned); 0 once unmapped

    private SharedMapping(nint mapBase, nuint mappedLength, nuint delta, nuint length, long offset, long alignment, bool writable)
    {
        _base = mapBase;
        _mappedLength = mappedLength;
        _delta = delta;
        Length = length;
        Offset = offset;
        Alignment = alignment;
        IsWritable = writable;
    }

    /// <summary>The first byte of the region (the requested offset in the file).</summary>
    /// <exception cref="ObjectDisposedException">After <see cref="Dispose"/>.</exception>
    public nint Pointer
    {
        get
        {
            nint b = Volatile.Read(ref _base);
            ObjectDisposedException.ThrowIf(b == 0, this);
            return b + (nint)_delta;
        }
    }

    /// <summary>The region's length in bytes, as requested.</summary>
    public nuint Length { get; }

    /// <summary>The region's offset in the file, as requested.</summary>
    public long Offset { get; }

    /// <summary>What the mapping's file offset was aligned down to: the page size, or the huge page size on hugetlbfs.</summary>
    public long Alignment { get; }

    /// <summary>True when mapped PROT_READ|PROT_WRITE, false for PROT_READ only.</summary>
    public bool IsWritable { get; }

    /// <summary>True once <see cref="Dispose"/> unmapped the region.</summary>
    public bool IsDisposed => Volatile.Read(ref _base) == 0;

    /// <summary>
    /// Maps <paramref name="length"/> bytes of <paramref name="fd"/> starting at <paramref name="offset"/>,
    /// MAP_SHARED, read-write or read-only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Length not positive, offset negative, or offset + length overflows.</exception>
    /// <exception cref="ArgumentException">The region goes past the end of a regular file (or memfd).</exception>
    /// <exception cref="LinuxException">statx, fstatfs or mmap failed.</exception>
    public static SharedMapping Map(SafeFd fd, long offset, long length, bool writable = true)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset > long.MaxValue - length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length),
                string.Create(CultureInfo.InvariantCulture, $"a region of {length} bytes at offset {offset} overflows a 64-bit file offset"));
        }

        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            int raw = fd.Fd;
            Statx.ForDescriptor(raw, out Statx status).ThrowIfFailed(string.Create(CultureInfo.InvariantCulture, $"statx of fd {raw} to map"));
            if (status.IsRegularFile && (ulong)(offset + length) > status.FileSize)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"region of {length} bytes at offset {offset} is beyond the end of the file (size {status.FileSize}) open at fd {raw}"),
                    nameof(length));
            }

            long alignment = BlockAlignment(raw);
            if (!TryComputeWindow(offset, length, alignment, out long mapOffset, out nuint delta, out nuint mapLength))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(length),
                    string.Create(CultureInfo.InvariantCulture, $"a region of {length} bytes at offset {offset}, aligned to {alignment} bytes, does not fit the address space"));
            }

            int prot = writable ? Mman.PROT_READ | Mman.PROT_WRITE : Mman.PROT_READ;
            SysResult r = Mman.Map(0, mapLength, prot, Mman.MAP_SHARED, fd, mapOffset);
            if (!r.IsSuccess)
            {
                throw new LinuxException(
                    string.Create(CultureInfo.InvariantCulture, $"mmap of {length} bytes at offset {offset} of fd {raw} ({mapLength} bytes from offset {mapOffset})"),
                    r.Error);
            }

            return new SharedMapping((nint)r.Value, mapLength, delta, (nuint)length, offset, alignment, writable);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>True when [<paramref name="pointer"/>, <paramref name="pointer"/> + <paramref name="length"/>) lies inside the region; false once disposed.</summary>
    public bool Contains(nint pointer, nuint length)
    {
        nint b = Volatile.Read(ref _base);
        if (b == 0)
        {
            return false;
        }

        nuint start = (nuint)(b + (nint)_delta);
        nuint p = (nuint)pointer;
        return p >= start && length <= Length && p - start <= Length - length;
    }

    /// <summary>A span over <paramref name="length"/> bytes of the region from <paramref name="start"/>, bounds-checked.</summary>
    public Span<byte> AsSpan(nuint start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (start > Length || (nuint)length > Length - start)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length),
                string.Create(CultureInfo.InvariantCulture, $"{length} bytes at {start} are outside the {Length}-byte region"));
        }

        return new Span<byte>((byte*)(Pointer + (nint)start), length);
    }

    /// <summary>Unmaps the region, once, whichever threads call it.</summary>
    public void Dispose()
    {
        nint b = Interlocked.Exchange(ref _base, 0);
        if (b != 0)
        {
            _ = Mman.Unmap(b, _mappedLength);
        }
    }

    /// <summary>
    /// The alignment mmap needs for the file at <paramref name="fd"/>: its huge page size on hugetlbfs
    /// (fstatfs f_bsize), else the base page size.
    /// </summary>
    internal static long BlockAlignment(int fd)
    {
        byte* statfs = stackalloc byte[StatfsBufferSize];
        new Span<byte>(statfs, StatfsBufferSize).Clear();
        if (LibC.fstatfs(fd, statfs) != 0)
        {
            throw LinuxException.FromLastError(string.Create(CultureInfo.InvariantCulture, $"fstatfs of fd {fd} to map"));
        }

        // struct statfs starts with __fsword_t f_type, f_bsize (long on 64-bit glibc, x86-64 and arm64 alike).
        long type = *(nint*)statfs & 0xFFFFFFFFL;
        long blockSize = *(nint*)(statfs + nint.Size);
        if (type != HUGETLBFS_MAGIC)
        {
            return Mman.PageSize;
        }

        if (blockSize < Mman.PageSize || (blockSize & (blockSize - 1)) != 0)
        {
            throw new LinuxException(string.Create(CultureInfo.InvariantCulture, $"fd {fd} is on hugetlbfs with an unusable block size {blockSize}"));
        }

        return blockSize;
    }

    /// <summary>
    /// The mmap window for a region: the file offset rounded down to <paramref name="alignment"/> (a power
    /// of two), where the region starts inside it, and the length rounded up to whole blocks. False when
    /// that does not fit the address space.
    /// </summary>
    internal static bool TryComputeWindow(long offset, long length, long alignment, out long mapOffset, out nuint delta, out nuint mapLength)
    {
        mapOffset = offset & ~(alignment - 1);
        long d = offset - mapOffset;
        delta = (nuint)d;
        mapLength = 0;
        if (length > long.MaxValue - d - (alignment - 1))
        {
            return false;
        }

        long rounded = (d + length + alignment - 1) & ~(alignment - 1);
        if ((ulong)rounded > nuint.MaxValue)
        {
            return false;
        }

        mapLength = (nuint)rounded;
        return true;
    }
}
