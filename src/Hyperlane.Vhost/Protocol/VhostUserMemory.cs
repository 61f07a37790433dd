using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// VhostUserMemory (vhost-user.rst "Payload" / "Multiple Memory regions description"), 264 bytes at most:
/// nregions u32, padding u32, then up to 8 regions. The SET_MEM_TABLE payload carries only the first
/// 8 + 32 * nregions bytes (QEMU and DPDK's virtio_user send exactly that).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostUserMemory
{
    /// <summary>sizeof(VhostUserMemory) with all 8 regions: the largest vhost-user payload Hyperlane accepts.</summary>
    public const int Size = HeaderSize + (MaxRegions * VhostMemoryRegion.Size);

    /// <summary>Size of nregions + padding.</summary>
    public const int HeaderSize = 8;

    /// <summary>VHOST_MEMORY_BASELINE_NREGIONS (QEMU; DPDK's VHOST_MEMORY_MAX_NREGIONS): regions per message and fds per message.</summary>
    public const int MaxRegions = 8;

    /// <summary>nregions.</summary>
    public uint NRegions;

    /// <summary>padding (ignored).</summary>
    public uint Padding;

    /// <summary>regions[8]; the first <see cref="NRegions"/> are meaningful.</summary>
    public VhostMemoryRegionArray Regions;

    /// <summary>The payload size for <paramref name="regionCount"/> regions: 8 + 32 * n.</summary>
    public static int PayloadSizeFor(int regionCount) => HeaderSize + (regionCount * VhostMemoryRegion.Size);
}
