using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// VhostUserMemoryRegion (vhost-user.rst "Payload" / "Memory region description"), 32 bytes: one guest RAM
/// region, backed by the fd at the same position in the message's ancillary data, mapped from file offset
/// <see cref="MmapOffset"/>. (With VHOST_USER_PROTOCOL_F_XEN_MMAP the description grows two u32 fields; Hyperlane
/// does not offer that feature.)
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostMemoryRegion
{
    /// <summary>sizeof(VhostUserMemoryRegion).</summary>
    public const int Size = 32;

    /// <summary>guest_phys_addr: guest-physical start.</summary>
    public ulong GuestPhysAddr;

    /// <summary>memory_size: length in bytes.</summary>
    public ulong MemorySize;

    /// <summary>userspace_addr: where the frontend (QEMU) has the region in its own address space.</summary>
    public ulong UserspaceAddr;

    /// <summary>mmap_offset: offset in the fd where the region starts.</summary>
    public ulong MmapOffset;

    /// <summary>A region description.</summary>
    public VhostMemoryRegion(ulong guestPhysAddr, ulong memorySize, ulong userspaceAddr, ulong mmapOffset)
    {
        GuestPhysAddr = guestPhysAddr;
        MemorySize = memorySize;
        UserspaceAddr = userspaceAddr;
        MmapOffset = mmapOffset;
    }
}
