using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// struct virtq_used_elem (virtio 1.2 §2.7.8 "The Virtqueue Used Ring"), 8 bytes: one used-ring entry.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqUsedElem
{
    /// <summary>sizeof(struct virtq_used_elem).</summary>
    public const int Size = 8;

    /// <summary>id: index of the head descriptor of the used chain (le32 on the wire, always &lt; queue size).</summary>
    public uint Id;

    /// <summary>len: number of bytes the device wrote into the chain's device-writable buffers.</summary>
    public uint Len;

    /// <summary>A used element.</summary>
    public VirtqUsedElem(uint id, uint len)
    {
        Id = id;
        Len = len;
    }
}
