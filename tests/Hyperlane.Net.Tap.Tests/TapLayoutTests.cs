using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Packets;

namespace Hyperlane.Net.Tap.Tests;

/// <summary>
/// Layout of the kernel structs the tap driver shares with the kernel (DESIGN.md, Code habits). The expected
/// numbers are written by hand from the Linux uapi headers (x86_64), not computed from our types.
/// </summary>
public sealed class TapLayoutTests
{
    /// <summary>
    /// include/uapi/linux/if.h: struct ifreq { union { char ifrn_name[IFNAMSIZ]; } ifr_ifrn; union { ...
    /// short ifru_flags; ... struct ifmap ifru_map; } ifr_ifru; }. IFNAMSIZ = 16; the union's largest member
    /// is struct ifmap (unsigned long mem_start, mem_end; unsigned short base_addr; unsigned char irq, dma,
    /// port; → 21 bytes padded to 24), so sizeof(struct ifreq) = 40 on x86_64. TUNSETIFF reads ifr_flags at 16.
    /// </summary>
    /// <summary>
    /// include/uapi/linux/virtio_net.h: struct virtio_net_hdr_v1 { __u8 flags; __u8 gso_type; __virtio16
    /// hdr_len; __virtio16 gso_size; __virtio16 csum_start; __virtio16 csum_offset; __virtio16 num_buffers; }
    /// (virtio 1.x spec §5.1.6), 12 bytes; the legacy struct virtio_net_hdr is the same without num_buffers (10).
    /// Constants: VIRTIO_NET_HDR_F_NEEDS_CSUM 1, _DATA_VALID 2, _RSC_INFO 4; VIRTIO_NET_HDR_GSO_NONE 0,
    /// _TCPV4 1, _UDP 3, _TCPV6 4, _UDP_L4 5, _ECN 0x80.
    /// </summary>
    [Fact]
    public void VirtioNetHeader_matches_linux_virtio_net_h()
    {
        Assert.Equal(12, Unsafe.SizeOf<VirtioNetHeader>());
        Assert.Equal(12, Marshal.SizeOf<VirtioNetHeader>());
        Assert.Equal(12, VirtioNetHeader.Size);
        Assert.Equal(10, VirtioNetHeader.LegacySize);
        Assert.Equal(0, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.Flags)));
        Assert.Equal(1, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.GsoType)));
        Assert.Equal(2, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.HdrLen)));
        Assert.Equal(4, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.GsoSize)));
        Assert.Equal(6, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.CsumStart)));
        Assert.Equal(8, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.CsumOffset)));
        Assert.Equal(10, (int)Marshal.OffsetOf<VirtioNetHeader>(nameof(VirtioNetHeader.NumBuffers)));

        Assert.Equal(1, VirtioNetHeader.FlagNeedsCsum);
        Assert.Equal(2, VirtioNetHeader.FlagDataValid);
        Assert.Equal(4, VirtioNetHeader.FlagRscInfo);
        Assert.Equal(0, VirtioNetHeader.GsoNone);
        Assert.Equal(1, VirtioNetHeader.GsoTcpV4);
        Assert.Equal(3, VirtioNetHeader.GsoUdp);
        Assert.Equal(4, VirtioNetHeader.GsoTcpV6);
        Assert.Equal(5, VirtioNetHeader.GsoUdpL4);
        Assert.Equal(0x80, VirtioNetHeader.GsoEcn);
    }

    [Fact]
    public void VirtioNetHeader_fields_are_little_endian_in_the_bytes_the_kernel_writes()
    {
        // tun's vnet header is little-endian on a little-endian host (TUNSETVNETLE / legacy native order).
        byte[] wire = [0x01, 0x81, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00, 0x01, 0x00];
        var h = MemoryMarshal.Read<VirtioNetHeader>(wire);
        Assert.Equal(VirtioNetHeader.FlagNeedsCsum, h.Flags);
        Assert.Equal(VirtioNetHeader.GsoTcpV4 | VirtioNetHeader.GsoEcn, h.GsoType);
        Assert.Equal(66, h.HdrLen);
        Assert.Equal(1448, h.GsoSize);
        Assert.Equal(34, h.CsumStart);
        Assert.Equal(16, h.CsumOffset);
        Assert.Equal(1, h.NumBuffers);
    }
}
