using System.Runtime.CompilerServices;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// A split virtqueue's descriptor table, or an indirect descriptor table, in guest memory the backend has already
/// translated whole (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table", §2.7.5.3 "Indirect Descriptors"): a host
/// pointer and an entry count. The only way in is <see cref="TryRead"/>, which checks the index against the count
/// and copies the 16-byte entry once into the caller's local; the guest may rewrite the table at any time, so
/// the caller validates and uses only that copy (hardening.md VU-12).
/// </summary>
internal readonly unsafe struct SplitDescTableView
{
    private readonly byte* _table;

    /// <summary>A view over <paramref name="count"/> descriptors at <paramref name="table"/> (translated whole by the caller).</summary>
    public SplitDescTableView(nint table, uint count)
    {
        _table = (byte*)table;
        Count = count;
    }

    /// <summary>Entries in the table.</summary>
    public uint Count { get; }

    /// <summary>Where entry <paramref name="index"/> mod <see cref="Count"/> (a power of two for a ring) lies, for a prefetch hint; nothing is read.</summary>
    public nint AddressOf(uint index) => (nint)(_table + ((nuint)(index & (Count - 1)) * VirtqDesc.Size));

    /// <summary>Copies descriptor <paramref name="index"/> into <paramref name="desc"/>; false (and nothing read) when the index is not below <see cref="Count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(uint index, out VirtqDesc desc)
    {
        if (index >= Count)
        {
            desc = default;
            return false;
        }

        desc = Unsafe.ReadUnaligned<VirtqDesc>(_table + ((nuint)index * VirtqDesc.Size));
        return true;
    }
}
