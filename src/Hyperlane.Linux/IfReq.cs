using System.Runtime.InteropServices;
using System.Text;

namespace Hyperlane.Linux;

/// <summary>
/// struct ifreq (linux/if.h), 40 bytes on 64-bit: ifr_name[IFNAMSIZ] then a 24-byte union, of which we
/// use ifr_flags (short), ifr_mtu (int) and ifr_hwaddr (struct sockaddr: family, then 14 address bytes).
/// Used with interface ioctls (TUNSETIFF, SIOCGIFHWADDR, SIOCSIFFLAGS...).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct IfReq
{
    public const int Size = 40;

    /// <summary>IFNAMSIZ: 15 characters and the terminating NUL.</summary>
    public const int NameSize = 16;

    [FieldOffset(0)] public fixed byte Name[NameSize];

    [FieldOffset(16)] public short Flags;

    [FieldOffset(16)] public int Mtu;

    [FieldOffset(16)] public ushort HwFamily;

    [FieldOffset(18)] public fixed byte HwData[14];

    /// <summary>An ifreq naming <paramref name="name"/> (at most 15 ASCII characters; longer is cut) with <paramref name="flags"/>.</summary>
    public static IfReq Create(string name, short flags = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        IfReq r = default;
        r.Flags = flags;
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, NameSize - 1)), new Span<byte>(r.Name, NameSize - 1));
        return r;
    }

    /// <summary>The name the kernel wrote back (e.g. the dtap%d it chose).</summary>
    public readonly string GetName()
    {
        fixed (byte* p = Name)
        {
            var span = new ReadOnlySpan<byte>(p, NameSize);
            int end = span.IndexOf((byte)0);
            return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
        }
    }
}
