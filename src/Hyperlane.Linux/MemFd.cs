namespace Hyperlane.Linux;

/// <summary>Anonymous shareable files (memfd_create(2)).</summary>
public static class MemFd
{
    public const uint MFD_CLOEXEC = 0x0001;
    public const uint MFD_ALLOW_SEALING = 0x0002;
    public const uint MFD_HUGETLB = 0x0004;

    /// <summary>With MFD_HUGETLB: 2 MiB pages, whatever the system's default hugepage size (21 &lt;&lt; MFD_HUGE_SHIFT).</summary>
    public const uint MFD_HUGE_2MB = 21u << 26;

    /// <summary>Creates a memfd of <paramref name="size"/> bytes. Returns the errno on failure instead of throwing.</summary>
    public static SysResult TryCreate(string name, uint flags, long size, out SafeFd? fd)
    {
        fd = null;
        int raw = LibC.memfd_create(name, flags);
        if (raw < 0)
        {
            return SysResult.FromReturn(-1);
        }

        var handle = new SafeFd(raw);
        if (LibC.ftruncate(raw, size) != 0)
        {
            var r = SysResult.FromReturn(-1);
            handle.Dispose();
            return r;
        }

        fd = handle;
        return SysResult.Ok(raw);
    }
}
