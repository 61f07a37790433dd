namespace Hyperlane.Vhost.Memory;

/// <summary>
/// One mapped guest RAM region of a <see cref="GuestMemory"/> table: where it is for the guest (guest-physical
/// address), for the frontend (its user, i.e. QEMU virtual, address) and for us (the host address of its first
/// byte, inside a mapping of the region's fd).
/// </summary>
/// <remarks>
/// A SET_MEM_TABLE region <c>r</c> mapped DPDK-style (the fd mapped from offset 0 for
/// <c>r.MmapOffset + r.MemorySize</c> bytes at <c>m</c>) is
/// <c>new GuestMemoryRegion(r.GuestPhysAddr, r.MemorySize, r.UserspaceAddr, m + r.MmapOffset, m, r.MmapOffset + r.MemorySize)</c>.
/// <see cref="GuestMemory.TryCreate"/> checks that the region lies inside its mapping.
/// </remarks>
public readonly struct GuestMemoryRegion
{
    /// <summary>A region.</summary>
    /// <param name="guestPhysAddr">Guest-physical address of the first byte.</param>
    /// <param name="size">Length in bytes (not 0).</param>
    /// <param name="userAddr">The frontend's (QEMU's) virtual address of the first byte.</param>
    /// <param name="hostAddr">Our address of the first byte.</param>
    /// <param name="mappingAddr">Start of the mapping that holds the region (what to munmap).</param>
    /// <param name="mappingLength">Length of that mapping.</param>
    public GuestMemoryRegion(ulong guestPhysAddr, ulong size, ulong userAddr, nint hostAddr, nint mappingAddr, ulong mappingLength)
    {
        GuestPhysAddr = guestPhysAddr;
        Size = size;
        UserAddr = userAddr;
        HostAddr = hostAddr;
        MappingAddr = mappingAddr;
        MappingLength = mappingLength;
    }

    /// <summary>Guest-physical address of the first byte.</summary>
    public ulong GuestPhysAddr { get; }

    /// <summary>Length in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The frontend's virtual address of the first byte (vring addresses are in this space).</summary>
    public ulong UserAddr { get; }

    /// <summary>Our address of the first byte.</summary>
    public nint HostAddr { get; }

    /// <summary>Start of the mapping holding the region.</summary>
    public nint MappingAddr { get; }

    /// <summary>Length of the mapping holding the region.</summary>
    public ulong MappingLength { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"gpa [0x{GuestPhysAddr:X}, +0x{Size:X}) user 0x{UserAddr:X} host 0x{(ulong)HostAddr:X}";
}
