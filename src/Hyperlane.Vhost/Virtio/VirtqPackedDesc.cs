using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// struct pvirtq_desc (virtio 1.2 §2.8.13 "The Virtqueue Descriptor Format" (packed)), 16 bytes: one entry of a
/// packed virtqueue's descriptor ring, written by both sides. Availability and use are encoded by
/// <see cref="VirtqDescFlags.Avail"/> and <see cref="VirtqDescFlags.Used"/> against the ring wrap counters
/// (§2.8.1). Read the entry once; the flags must be read (with acquire ordering) before the other fields.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqPackedDesc
{
    /// <summary>sizeof(struct pvirtq_desc).</summary>
    public const int Size = 16;

    /// <summary>addr: buffer address.</summary>
    public ulong Addr;

    /// <summary>len: buffer length (driver), or bytes written (device, in a used descriptor).</summary>
    public uint Len;

    /// <summary>id: buffer id, returned by the device in the used descriptor.</summary>
    public ushort Id;

    /// <summary>flags: <see cref="VirtqDescFlags"/>.</summary>
    public ushort Flags;

    /// <summary>A descriptor with the given fields.</summary>
    public VirtqPackedDesc(ulong addr, uint len, ushort id, VirtqDescFlags flags)
    {
        Addr = addr;
        Len = len;
        Id = id;
        Flags = (ushort)flags;
    }
}
