using System.Runtime.InteropServices;

namespace Hyperlane.Net.Tap;

/// <summary>
/// struct virtio_net_hdr_v1 (virtio 1.x spec §5.1.6 "Device Operation"; linux/virtio_net.h): the header
/// TUN/TAP puts in front of every packet with IFF_VNET_HDR and TUNSETVNETHDRSZ 12. Fields are
/// little-endian (tun's legacy endianness on a little-endian CPU). The kernel fills <see cref="NumBuffers"/>
/// with nothing on Rx (it skips those 2 bytes), so it is never read.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
internal struct VirtioNetHeader
{
    public const int Size = 12;

    /// <summary>Size without num_buffers (the legacy virtio_net_hdr).</summary>
    public const int LegacySize = 10;

    public const byte FlagNeedsCsum = 1;
    public const byte FlagDataValid = 2;
    public const byte FlagRscInfo = 4;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;
    public const byte GsoEcn = 0x80;

    public byte Flags;
    public byte GsoType;
    public ushort HdrLen;
    public ushort GsoSize;
    public ushort CsumStart;
    public ushort CsumOffset;
    public ushort NumBuffers;
}
