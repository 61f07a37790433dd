using System.Runtime.CompilerServices;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// Guest buffer bytes as a span, for the packed queue's copy loops: the only place its data path turns a host
/// address into memory it reads or writes.
/// </summary>
internal static unsafe class PackedGuestBytes
{
    /// <summary>
    /// [<paramref name="host"/>, + <paramref name="length"/>) as a span. The caller got <paramref name="host"/> from a
    /// whole-range <c>GuestMemory</c> translation that covers these bytes (a <see cref="PackedSegment"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> At(nint host, int length) => new((void*)host, length);
}
