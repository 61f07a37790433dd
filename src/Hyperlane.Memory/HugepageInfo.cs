using Hyperlane.Linux;

namespace Hyperlane.Memory;

/// <summary>2 MiB hugepages reserved and free on this host, read from sysfs through <see cref="HostFs"/>.</summary>
public readonly record struct HugepageInfo(long Total, long Free, long PageSize)
{
    public const long DefaultPageSize = 2L * 1024 * 1024;

    public static HugepageInfo Read()
    {
        const string dir = "/sys/kernel/mm/hugepages/hugepages-2048kB";
        return new HugepageInfo(
            HostFs.ReadInt64(dir + "/nr_hugepages") ?? 0,
            HostFs.ReadInt64(dir + "/free_hugepages") ?? 0,
            DefaultPageSize);
    }
}
