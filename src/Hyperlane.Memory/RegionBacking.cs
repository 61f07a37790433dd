namespace Hyperlane.Memory;

/// <summary>What memory a <see cref="MemoryRegion"/> stands on.</summary>
public enum RegionBacking
{
    /// <summary>memfd with MFD_HUGETLB: 2 MiB pages, shareable by fd. Needs reserved hugepages.</summary>
    HugetlbMemFd,

    /// <summary>memfd on 4 KiB pages: shareable by fd; THP only where shmem_enabled allows it.</summary>
    SmallPageMemFd,

    /// <summary>Private anonymous memory on 4 KiB pages with MADV_HUGEPAGE (THP): fastest without hugepages, not shareable.</summary>
    AnonymousThp,
}
