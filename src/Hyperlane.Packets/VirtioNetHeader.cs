using System.Runtime.InteropServices;

namespace Hyperlane.Packets;

/// <summary>
/// struct virtio_net_hdr (virtio 1.2 §5.1.6 "Device Operation"; linux/virtio_net.h), 12 bytes with num_buffers,
/// which is present when VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF is negotiated (10 bytes otherwise: the
/// legacy header, §5.1.6.1 "Legacy Interface: Device Operation"). It precedes every packet on both virtqueues,
/// and TUN/TAP puts it in front of every packet with IFF_VNET_HDR and TUNSETVNETHDRSZ 12 (little-endian fields;
/// the kernel leaves num_buffers alone on Rx).
/// </summary>
/// <remarks>
/// On the transmit queue the guest writes it: copy it once, then validate csum_start/csum_offset against the
/// packet length and gso_size/gso_type before using them (hardening.md VU-13, CVE-2024-11614).
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtioNetHeader
{
    /// <summary>Size with num_buffers.</summary>
    public const int Size = 12;

    /// <summary>Size without num_buffers (legacy devices without VIRTIO_NET_F_MRG_RXBUF).</summary>
    public const int LegacySize = 10;

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM (1): the checksum at csum_start + csum_offset is to be computed.</summary>
    public const byte FlagNeedsCsum = 1;

    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID (2): the checksum was validated (receive only).</summary>
    public const byte FlagDataValid = 2;

    /// <summary>VIRTIO_NET_HDR_F_RSC_INFO (4): csum_start/csum_offset carry coalescing info (VIRTIO_NET_F_RSC_EXT).</summary>
    public const byte FlagRscInfo = 4;

    /// <summary>VIRTIO_NET_HDR_GSO_NONE.</summary>
    public const byte GsoNone = 0;

    /// <summary>VIRTIO_NET_HDR_GSO_TCPV4.</summary>
    public const byte GsoTcpV4 = 1;

    /// <summary>VIRTIO_NET_HDR_GSO_UDP (UFO).</summary>
    public const byte GsoUdp = 3;

    /// <summary>VIRTIO_NET_HDR_GSO_TCPV6.</summary>
    public const byte GsoTcpV6 = 4;

    /// <summary>VIRTIO_NET_HDR_GSO_UDP_L4 (USO).</summary>
    public const byte GsoUdpL4 = 5;

    /// <summary>VIRTIO_NET_HDR_GSO_ECN (0x80), or-ed into gso_type.</summary>
    public const byte GsoEcn = 0x80;

    /// <summary>flags.</summary>
    public byte Flags;

    /// <summary>gso_type.</summary>
    public byte GsoType;

    /// <summary>hdr_len: length of the headers to copy into each segment.</summary>
    public ushort HdrLen;

    /// <summary>gso_size: maximum segment payload size.</summary>
    public ushort GsoSize;

    /// <summary>csum_start: offset of the checksummed area.</summary>
    public ushort CsumStart;

    /// <summary>csum_offset: offset of the checksum field from csum_start.</summary>
    public ushort CsumOffset;

    /// <summary>num_buffers: number of merged receive buffers (only with VERSION_1 or MRG_RXBUF).</summary>
    public ushort NumBuffers;
}
