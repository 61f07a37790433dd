using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// VhostUserMemRegMsg (vhost-user.rst "Payload" / "Single memory region description"), 40 bytes: padding u64,
/// then one region. Payload of ADD_MEM_REG and REM_MEM_REG (CONFIGURE_MEM_SLOTS).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostUserSingleMemoryRegion
{
    /// <summary>sizeof(VhostUserMemRegMsg).</summary>
    public const int Size = 8 + VhostMemoryRegion.Size;

    /// <summary>padding (ignored).</summary>
    public ulong Padding;

    /// <summary>region.</summary>
    public VhostMemoryRegion Region;

    /// <summary>A single-region payload.</summary>
    public VhostUserSingleMemoryRegion(in VhostMemoryRegion region)
    {
        Padding = 0;
        Region = region;
    }
}
