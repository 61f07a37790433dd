namespace Hyperlane.Linux;

/// <summary>Memory mapping (sys/mman.h): mmap, munmap, madvise, mlock.</summary>
public static class Mman
{
    public const int PROT_NONE = 0x0;
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;

    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;
    public const int MAP_POPULATE = 0x8000;
    public const int MAP_HUGETLB = 0x40000;

    public const int MADV_DONTNEED = 4;
    public const int MADV_DONTFORK = 10;
    public const int MADV_HUGEPAGE = 14;

    private static readonly nint MapFailed = -1;

    /// <summary>Maps <paramref name="length"/> bytes; returns the address or the errno.</summary>
    public static SysResult Map(nint address, nuint length, int prot, int flags, SafeFd? fd, long offset)
    {
        bool added = false;
        try
        {
            int raw = -1;
            if (fd is not null)
            {
                fd.DangerousAddRef(ref added);
                raw = fd.Fd;
            }

            nint p = LibC.mmap(address, length, prot, flags, raw, offset);
            return p == MapFailed ? SysResult.FromReturn(-1) : SysResult.Ok(p);
        }
        finally
        {
            if (added)
            {
                fd!.DangerousRelease();
            }
        }
    }

    public static SysResult Unmap(nint address, nuint length) => SysResult.FromReturn(LibC.munmap(address, length));

    public static SysResult Advise(nint address, nuint length, int advice) => SysResult.FromReturn(LibC.madvise(address, length, advice));

    public static SysResult Lock(nint address, nuint length) => SysResult.FromReturn(LibC.mlock(address, length));

    /// <summary>The base page size (sysconf(_SC_PAGESIZE)).</summary>
    public static int PageSize { get; } = (int)LibC.sysconf(30);
}
