using System.Runtime.CompilerServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// The fixed array of <see cref="VhostUserMemory.MaxRegions"/> (VHOST_MEMORY_BASELINE_NREGIONS = 8) regions
/// inside <see cref="VhostUserMemory"/> ("region0 ... region7" in vhost-user.rst "Multiple Memory regions
/// description"), 256 bytes.
/// </summary>
[InlineArray(VhostUserMemory.MaxRegions)]
public struct VhostMemoryRegionArray
{
    private VhostMemoryRegion _element0;
}
