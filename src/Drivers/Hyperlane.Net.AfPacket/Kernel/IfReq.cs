using System.Runtime.InteropServices;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// struct ifreq (linux/if.h), 40 bytes: the name, then a union at offset 16 (ifr_flags as a short,
/// ifr_mtu as an int, ifr_hwaddr as a struct sockaddr: family then 14 bytes of address).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct IfReq
{
    [FieldOffset(0)] public fixed byte Name[16];
    [FieldOffset(16)] public short Flags;
    [FieldOffset(16)] public int Mtu;
    [FieldOffset(16)] public ushort HwFamily;
    [FieldOffset(18)] public fixed byte HwData[14];

    public static IfReq For(string name)
    {
        var r = default(IfReq);
        System.Text.Encoding.UTF8.GetBytes(name, new Span<byte>(r.Name, PacketConstants.MaxInterfaceName));
        return r;
    }
}
