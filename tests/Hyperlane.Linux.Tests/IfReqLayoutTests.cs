using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Tests;

/// <summary>struct ifreq against linux/if.h (x86_64): the one definition tap and af_packet share.</summary>
public class IfReqLayoutTests
{
    [Fact]
    public void IfReq_matches_linux_if_h()
    {
        Assert.Equal(40, Unsafe.SizeOf<IfReq>());
        Assert.Equal(40, Marshal.SizeOf<IfReq>());
        Assert.Equal(40, IfReq.Size);
        Assert.Equal(16, IfReq.NameSize);                                             // IFNAMSIZ
        Assert.Equal(0, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.Name)));            // ifr_name
        Assert.Equal(16, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.Flags)));          // ifr_flags
        Assert.Equal(16, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.Mtu)));            // ifr_mtu
        Assert.Equal(16, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.HwFamily)));       // ifr_hwaddr.sa_family
        Assert.Equal(18, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.HwData)));         // ifr_hwaddr.sa_data
    }

    [Fact]
    public void Names_are_cut_to_15_characters_and_nul_terminated()
    {
        var r = IfReq.Create("abcdefghijklmnopqrs", 0x1002);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<IfReq>(in r));
        Assert.Equal("abcdefghijklmno"u8.ToArray(), bytes[..15].ToArray());
        Assert.Equal(0, bytes[15]);
        Assert.Equal(0x1002, r.Flags);
        Assert.Equal("abcdefghijklmno", r.GetName());
        Assert.Equal("tap0", IfReq.Create("tap0").GetName());
    }
}
