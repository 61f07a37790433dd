using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

public class RegionOptionTests
{
    [Fact]
    public void Requiring_hugepages_while_forbidding_them_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => MemoryRegion.Create("contradiction", 4096, new RegionOptions { RequireHugepages = true, AllowHugepages = false }));
        Assert.Contains("contradict", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hugetlb_memfds_ask_for_2MiB_pages_explicitly()
    {
        // MFD_HUGE_2MB = log2(2 MiB) << MFD_HUGE_SHIFT (26), so a host whose default hugepage size is 1 GiB still gets 2 MiB pages.
        Assert.Equal(21u << 26, MemFd.MFD_HUGE_2MB);
    }
}
