using System.Globalization;
using Hyperlane.Linux;

namespace Hyperlane.Memory;

/// <summary>
/// One hugepage pool of this host (<c>/sys/kernel/mm/hugepages/hugepages-&lt;N&gt;kB</c>), read through a host root:
/// what mempools fall back from, and what <c>hyperlane doctor</c> reports.
/// </summary>
/// <param name="Total">nr_hugepages (0 when absent or unreadable).</param>
/// <param name="Free">free_hugepages.</param>
/// <param name="PageSize">The page size in bytes.</param>
/// <param name="Present">Whether the kernel offers this page size at all.</param>
public readonly record struct HugepageInfo(long Total, long Free, long PageSize, bool Present = true)
{
    public const long DefaultPageSize = 2L * 1024 * 1024;

    /// <summary>The 2 MiB pool under <see cref="HostFs.Root"/>.</summary>
    public static HugepageInfo Read() => Read(null, DefaultPageSize);

    /// <summary>The pool of <paramref name="pageSize"/>-byte pages under <paramref name="root"/> (null: <see cref="HostFs.Root"/>).</summary>
    public static HugepageInfo Read(string? root, long pageSize)
    {
        string dir = string.Create(CultureInfo.InvariantCulture, $"/sys/kernel/mm/hugepages/hugepages-{pageSize / 1024}kB");
        return new HugepageInfo(
            HostFs.ReadInt64(dir + "/nr_hugepages", root) ?? 0,
            HostFs.ReadInt64(dir + "/free_hugepages", root) ?? 0,
            pageSize,
            Directory.Exists(HostFs.Path(dir, root)));
    }
}
