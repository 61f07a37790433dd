using System.Runtime.InteropServices;

namespace Hyperlane.Net.Tap;

/// <summary>
/// struct ifreq (linux/if.h), 40 bytes on 64-bit: ifr_name[IFNAMSIZ=16] then a 24-byte union of which
/// TUNSETIFF / TUNSETQUEUE use ifr_flags (a short at offset 16).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal unsafe struct IfReq
{
    public const int Size = 40;

    /// <summary>IFNAMSIZ: 15 characters and the terminating NUL.</summary>
    public const int NameSize = 16;

    [FieldOffset(0)] public fixed byte Name[NameSize];

    [FieldOffset(16)] public short Flags;

    public static IfReq Create(string name, short flags)
    {
        IfReq r = default;
        r.Flags = flags;
        var span = new Span<byte>(r.Name, NameSize - 1);
        System.Text.Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, NameSize - 1)), span);
        return r;
    }

    public readonly string GetName()
    {
        fixed (byte* p = Name)
        {
            var span = new ReadOnlySpan<byte>(p, NameSize);
            int end = span.IndexOf((byte)0);
            return System.Text.Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
        }
    }
}
