using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hyperlane.Memory;

/// <summary>
/// The byte copy of the data path, for the short copies it does per packet (a virtio-net header, a 64-byte frame):
/// 8 to 128 bytes are moved inline with at most four overlapping loads and stores, with no call, as DPDK's
/// rte_memcpy does for small sizes; shorter and longer copies go to <see cref="Span{T}.CopyTo"/>. Same contract as CopyTo:
/// overlapping ranges are fine (every load comes before the first store), and a destination shorter than the
/// source throws before anything is written.
/// </summary>
public static class PacketCopy
{
    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="source"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        nuint n = (nuint)source.Length;
        if (n > (nuint)destination.Length)
        {
            ThrowDestinationTooShort(nameof(destination));
        }

        ref byte s = ref MemoryMarshal.GetReference(source);
        ref byte d = ref MemoryMarshal.GetReference(destination);
        if (n >= 32 && n <= 128 && Vector256.IsHardwareAccelerated)
        {
            if (n <= 64)
            {
                Vector256<byte> a = Vector256.LoadUnsafe(ref s);
                Vector256<byte> b = Vector256.LoadUnsafe(ref s, n - 32);
                a.StoreUnsafe(ref d);
                b.StoreUnsafe(ref d, n - 32);
                return;
            }

            Vector256<byte> a0 = Vector256.LoadUnsafe(ref s);
            Vector256<byte> a1 = Vector256.LoadUnsafe(ref s, 32);
            Vector256<byte> b0 = Vector256.LoadUnsafe(ref s, n - 64);
            Vector256<byte> b1 = Vector256.LoadUnsafe(ref s, n - 32);
            a0.StoreUnsafe(ref d);
            a1.StoreUnsafe(ref d, 32);
            b0.StoreUnsafe(ref d, n - 64);
            b1.StoreUnsafe(ref d, n - 32);
            return;
        }

        if (n < 32 && n >= 8)
        {
            if (n >= 16 && Vector128.IsHardwareAccelerated)
            {
                Vector128<byte> a = Vector128.LoadUnsafe(ref s);
                Vector128<byte> b = Vector128.LoadUnsafe(ref s, n - 16);
                a.StoreUnsafe(ref d);
                b.StoreUnsafe(ref d, n - 16);
                return;
            }

            if (n <= 16)
            {
                ulong a = Unsafe.ReadUnaligned<ulong>(ref s);
                ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, n - 8));
                Unsafe.WriteUnaligned(ref d, a);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, n - 8), b);
                return;
            }
        }

        source.CopyTo(destination);
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/>, writing each whole 64-byte
    /// cache line of the destination with non-temporal (streaming) stores and the partial lines at either end with
    /// ordinary ones. For data that another core reads next and this one does not: a streaming store does not fetch
    /// the line first, so it does not wait while another core's cached copy of it is invalidated. Streaming stores are
    /// weakly ordered: call <see cref="StreamingFence"/> before the store that tells the reader the data is there.
    /// The ranges must not overlap. Where AVX is missing, or no whole line is written, this is <see cref="Copy"/>.
    /// Returns whether any streaming store was issued.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="source"/>.</exception>
    public static unsafe bool CopyStreaming(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        const int Line = 64;
        int n = source.Length;
        if (n > destination.Length)
        {
            ThrowDestinationTooShort(nameof(destination));
        }

        if (n < Line || !Avx.IsSupported)
        {
            Copy(source, destination);
            return false;
        }

        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            int head = (int)(((nuint)Line - ((nuint)d & (Line - 1))) & (Line - 1));
            int lines = (n - head) / Line;
            if (lines == 0)
            {
                Copy(source, destination);
                return false;
            }

            if (head != 0)
            {
                Copy(source[..head], destination);
            }

            byte* from = s + head;
            byte* to = d + head;
            for (int i = 0; i < lines; i++, from += Line, to += Line)
            {
                Avx.StoreAlignedNonTemporal(to, Avx.LoadVector256(from));
                Avx.StoreAlignedNonTemporal(to + 32, Avx.LoadVector256(from + 32));
            }

            int done = head + (lines * Line);
            if (done < n)
            {
                Copy(source[done..], destination[done..]);
            }
        }

        return true;
    }

    /// <summary>
    /// Orders the streaming stores of <see cref="CopyStreaming"/> before every later store (SFENCE), so a reader that
    /// sees the later store (an index, a flag) also sees the data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StreamingFence()
    {
        if (Sse.IsSupported)
        {
            Sse.StoreFence();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort(string paramName) =>
        throw new ArgumentException("the destination is shorter than the source", paramName);
}
