using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// One event suppression structure of a packed virtqueue (virtio 1.2 §2.8.14 "Event Suppression Structure
/// Format", <see cref="VirtqPackedEventSuppress"/>): the driver area, which the device only reads, or the device
/// area, which it only writes. Both 16-bit halves move in one 4-byte access (the area is 4-byte aligned, checked
/// by <see cref="PackedVhostQueue.TryCreate"/>), so a reader never pairs an old offset with new flags.
/// </summary>
internal readonly unsafe struct PackedEventSuppressView
{
    private readonly uint* _area;

    /// <summary>A view over the 4 bytes at <paramref name="area"/> (translated whole, 4-byte aligned).</summary>
    public PackedEventSuppressView(nint area) => _area = (uint*)area;

    /// <summary>Copies the structure with one volatile load.</summary>
    public VirtqPackedEventSuppress Read()
    {
        uint v = Volatile.Read(ref *_area);
        return new VirtqPackedEventSuppress { Desc = (ushort)v, Flags = (ushort)(v >> 16) };
    }

    /// <summary>Stores the structure with one release store.</summary>
    public void Write(ushort desc, PackedEventFlags flags) => Volatile.Write(ref *_area, desc | ((uint)flags << 16));
}
