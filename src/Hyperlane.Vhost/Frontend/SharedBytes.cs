namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// Spans over memory the frontend owns and shares with the backend (ring area, mbuf data rooms). The caller
/// derives every address from its own bookkeeping (never from a value the backend wrote) and bounds the length
/// by what it posted.
/// </summary>
internal static unsafe class SharedBytes
{
    /// <summary>[<paramref name="address"/>, + <paramref name="length"/>) as a span.</summary>
    public static Span<byte> At(nint address, int length) => new((void*)address, length);

    /// <summary>Zeroes [<paramref name="address"/>, + <paramref name="length"/>).</summary>
    public static void Clear(nint address, long length) => new Span<byte>((void*)address, checked((int)length)).Clear();
}
