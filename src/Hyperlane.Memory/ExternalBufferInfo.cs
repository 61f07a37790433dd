using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// Native shared info of an external buffer (DPDK's rte_mbuf_ext_shared_info): the reference count
/// shared by every mbuf attached to the buffer, and who to tell when the last one lets go. The owner
/// allocates it (often inside the buffer's own region) and initialises it with <see cref="Init"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct ExternalBufferInfo
{
    public const int Size = 32;

    /// <summary>Mbufs attached to the buffer.</summary>
    [FieldOffset(0)] public int RefCnt;

    /// <summary>GCHandle of the <see cref="ExternalBufferReleaser"/> to call at zero.</summary>
    [FieldOffset(8)] public nint Releaser;

    /// <summary>The owner's cookie, passed back to the releaser.</summary>
    [FieldOffset(16)] public nint Opaque;

    [FieldOffset(24)] public nint Reserved;

    /// <summary>Prepares <paramref name="info"/> for <paramref name="references"/> attachments.</summary>
    public static void Init(ref ExternalBufferInfo info, ExternalBufferReleaser releaser, nint opaque, int references = 1)
    {
        ArgumentNullException.ThrowIfNull(releaser);
        ArgumentOutOfRangeException.ThrowIfLessThan(references, 1);
        info.Releaser = releaser.Handle;
        info.Opaque = opaque;
        info.Reserved = 0;
        Volatile.Write(ref info.RefCnt, references);
    }
}
