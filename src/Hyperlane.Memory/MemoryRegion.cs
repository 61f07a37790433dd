using System.Globalization;
using Hyperlane.Linux;

namespace Hyperlane.Memory;

/// <summary>
/// One mapping that Hyperlane allocates packet memory from (DESIGN.md, Memory). Backed by a hugetlb memfd
/// when hugepages are reserved, else by a 4 KiB memfd (shareable) or anonymous THP memory; the choice
/// and why are in <see cref="Backing"/> and <see cref="Reason"/>. IOVA = virtual address.
/// </summary>
public sealed unsafe class MemoryRegion : IDisposable
{
    private const long TwoMiB = 2L * 1024 * 1024;
    private readonly nint mapBase;
    private readonly nuint mapLength;
    private int disposed;

    private MemoryRegion(string name, nint address, long size, nint mapBase, nuint mapLength, SafeFd? fd, RegionBacking backing, long pageSize, string reason)
    {
        Name = name;
        Address = address;
        Size = size;
        this.mapBase = mapBase;
        this.mapLength = mapLength;
        Fd = fd;
        Backing = backing;
        PageSize = pageSize;
        Reason = reason;
    }

    public string Name { get; }

    /// <summary>Start of the usable memory (aligned to <see cref="PageSize"/>).</summary>
    public nint Address { get; }

    public long Size { get; }

    /// <summary>The memfd that backs the region, when it is shareable; null for anonymous memory.</summary>
    public SafeFd? Fd { get; }

    public RegionBacking Backing { get; }

    public long PageSize { get; }

    /// <summary>Why this backing was chosen, for logs and <c>show port info</c>.</summary>
    public string Reason { get; }

    public bool IsShareable => Fd is not null;

    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>Creates a region of at least <paramref name="size"/> bytes, choosing the backing automatically.</summary>
    public static MemoryRegion Create(string name, long size, RegionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        options ??= RegionOptions.Default;
        if (options.RequireHugepages && !options.AllowHugepages)
        {
            throw new ArgumentException($"region '{name}': RequireHugepages and AllowHugepages = false contradict each other", nameof(options));
        }

        string hugeNote;
        if (options.AllowHugepages)
        {
            var huge = HugepageInfo.Read();
            long pages = (size + TwoMiB - 1) / TwoMiB;
            if (huge.Free >= pages)
            {
                var region = TryHugetlb(name, pages * TwoMiB, out Errno err);
                if (region is not null)
                {
                    return region;
                }

                hugeNote = string.Create(CultureInfo.InvariantCulture, $"hugetlb memfd failed ({err}) with {huge.Free} of {huge.Total} hugepages free");
            }
            else
            {
                hugeNote = string.Create(CultureInfo.InvariantCulture, $"{huge.Free} hugepages free, {pages} needed");
            }

            if (options.RequireHugepages)
            {
                // Pages already in use stay in use: reserve that many plus the ones this region needs.
                long reserve = huge.Total - huge.Free + pages;
                throw new InvalidOperationException($"region '{name}': hugepages required but not available: {hugeNote} (reserve them with: echo {reserve} > /proc/sys/vm/nr_hugepages)");
            }
        }
        else
        {
            hugeNote = "hugepages not allowed";
        }

        return options.Shareable ? SmallPageMemFd(name, size, hugeNote) : AnonymousThp(name, size, hugeNote);
    }

    /// <summary>Bytes at <paramref name="offset"/>, bounds-checked against the region.</summary>
    public Span<byte> AsSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Size - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside region '{Name}' of {Size} bytes");
        }

        return new Span<byte>((byte*)Address + offset, length);
    }

    /// <summary>True when [address, address+length) lies inside the region.</summary>
    public bool Contains(nint address, long length) =>
        length >= 0 && address >= Address && (long)address - Address <= Size - length;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: {Size / 1024} KiB {Backing} ({Reason})");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        Mman.Unmap(mapBase, mapLength);
        Fd?.Dispose();
    }

    private static void Prefault(nint address, long size)
    {
        const int Chunk = 1 << 30;
        for (long done = 0; done < size; done += Chunk)
        {
            new Span<byte>((byte*)address + done, (int)Math.Min(Chunk, size - done)).Clear();
        }
    }

    private static MemoryRegion? TryHugetlb(string name, long size, out Errno error)
    {
        var r = MemFd.TryCreate("hyperlane:" + name, MemFd.MFD_CLOEXEC | MemFd.MFD_HUGETLB | MemFd.MFD_HUGE_2MB, size, out SafeFd? fd);
        if (!r.IsSuccess)
        {
            error = r.Error;
            return null;
        }

        // A shared hugetlb mapping reserves its pages at mmap time, so a shortage fails here (ENOMEM), not later with SIGBUS.
        var m = Mman.Map(0, (nuint)size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        if (!m.IsSuccess)
        {
            error = m.Error;
            fd!.Dispose();
            return null;
        }

        error = Errno.None;
        return new MemoryRegion(name, (nint)m.Value, size, (nint)m.Value, (nuint)size, fd, RegionBacking.HugetlbMemFd, TwoMiB, "hugepages reserved");
    }

    private static MemoryRegion SmallPageMemFd(string name, long size, string hugeNote)
    {
        long page = Mman.PageSize;
        size = (size + page - 1) / page * page;
        MemFd.TryCreate("hyperlane:" + name, MemFd.MFD_CLOEXEC, size, out SafeFd? fd).ThrowIfFailed($"memfd_create for region '{name}' ({size} bytes)");
        var m = Mman.Map(0, (nuint)size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        if (!m.IsSuccess)
        {
            fd!.Dispose();
            throw new LinuxException($"mmap of region '{name}' ({size} bytes)", m.Error);
        }

        // Only effective where /sys/kernel/mm/transparent_hugepage/shmem_enabled allows it; harmless elsewhere.
        Mman.Advise((nint)m.Value, (nuint)size, Mman.MADV_HUGEPAGE);
        return new MemoryRegion(name, (nint)m.Value, size, (nint)m.Value, (nuint)size, fd, RegionBacking.SmallPageMemFd, page, hugeNote + "; shareable memfd on 4 KiB pages");
    }

    private static MemoryRegion AnonymousThp(string name, long size, string hugeNote)
    {
        // Over-map by 2 MiB so the usable range starts on a 2 MiB boundary: THP can then back all of it.
        size = (size + TwoMiB - 1) / TwoMiB * TwoMiB;
        nuint mapLength = (nuint)(size + TwoMiB);
        var m = Mman.Map(0, mapLength, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        if (!m.IsSuccess)
        {
            throw new LinuxException($"mmap of region '{name}' ({size} bytes)", m.Error);
        }

        nint mapBase = (nint)m.Value;
        nint aligned = (nint)(((long)mapBase + TwoMiB - 1) & ~(TwoMiB - 1));
        var adv = Mman.Advise(aligned, (nuint)size, Mman.MADV_HUGEPAGE);
        Prefault(aligned, size); // fault the pages in now, not on the data path

        string reason = hugeNote + (adv.IsSuccess ? "; anonymous memory with transparent hugepages (madvise)" : $"; anonymous 4 KiB pages (MADV_HUGEPAGE: {adv.Error})");
        return new MemoryRegion(name, aligned, size, mapBase, mapLength, null, RegionBacking.AnonymousThp, Mman.PageSize, reason);
    }
}
