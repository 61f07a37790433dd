using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// struct virtq_desc (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table"), 16 bytes: one entry of a split
/// virtqueue's descriptor table. Little-endian on the wire (virtio 1.x); Hyperlane runs on little-endian hosts
/// only, so fields are read as they are.
/// </summary>
/// <remarks>
/// The guest writes this table. A ring processor copies an entry once into a local (never re-reads a field it
/// validated) and checks <see cref="Next"/> against the queue size and <see cref="Len"/>/<see cref="Addr"/>
/// through <c>GuestMemory</c> before use (hardening.md VU-09..VU-12).
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqDesc
{
    /// <summary>sizeof(struct virtq_desc).</summary>
    public const int Size = 16;

    /// <summary>addr: guest-physical address of the buffer (an IOVA when VIRTIO_F_ACCESS_PLATFORM is negotiated).</summary>
    public ulong Addr;

    /// <summary>len: length of the buffer in bytes.</summary>
    public uint Len;

    /// <summary>flags: <see cref="VirtqDescFlags.Next"/>, <see cref="VirtqDescFlags.Write"/>, <see cref="VirtqDescFlags.Indirect"/>.</summary>
    public ushort Flags;

    /// <summary>next: index of the next descriptor of the chain when <see cref="VirtqDescFlags.Next"/> is set.</summary>
    public ushort Next;

    /// <summary>A descriptor with the given fields.</summary>
    public VirtqDesc(ulong addr, uint len, VirtqDescFlags flags, ushort next)
    {
        Addr = addr;
        Len = len;
        Flags = (ushort)flags;
        Next = next;
    }
}
