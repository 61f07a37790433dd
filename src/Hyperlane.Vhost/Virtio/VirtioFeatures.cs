namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// Feature bit numbers (not masks) negotiated over vhost-user GET/SET_FEATURES. Sources: virtio 1.2 §5.1.3
/// "Feature bits" (network device, bits 0-23 and 56-63), §6 "Reserved Feature Bits" (24-40), linux
/// vhost_types.h (VHOST_F_LOG_ALL) and vhost-user.rst "Communication" (VHOST_USER_F_PROTOCOL_FEATURES).
/// Use <see cref="Mask"/> to turn one into a mask.
/// </summary>
public static class VirtioFeatures
{
    /// <summary>VIRTIO_NET_F_CSUM (0): the device handles packets with partial checksum (guest Tx offload).</summary>
    public const int NetCsum = 0;

    /// <summary>VIRTIO_NET_F_GUEST_CSUM (1): the driver handles packets with partial checksum.</summary>
    public const int NetGuestCsum = 1;

    /// <summary>VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (2).</summary>
    public const int NetCtrlGuestOffloads = 2;

    /// <summary>VIRTIO_NET_F_MTU (3): the device reports a maximum MTU.</summary>
    public const int NetMtu = 3;

    /// <summary>VIRTIO_NET_F_MAC (5): the device has a given MAC address.</summary>
    public const int NetMac = 5;

    /// <summary>VIRTIO_NET_F_GUEST_TSO4 (7).</summary>
    public const int NetGuestTso4 = 7;

    /// <summary>VIRTIO_NET_F_GUEST_TSO6 (8).</summary>
    public const int NetGuestTso6 = 8;

    /// <summary>VIRTIO_NET_F_GUEST_ECN (9).</summary>
    public const int NetGuestEcn = 9;

    /// <summary>VIRTIO_NET_F_GUEST_UFO (10).</summary>
    public const int NetGuestUfo = 10;

    /// <summary>VIRTIO_NET_F_HOST_TSO4 (11).</summary>
    public const int NetHostTso4 = 11;

    /// <summary>VIRTIO_NET_F_HOST_TSO6 (12).</summary>
    public const int NetHostTso6 = 12;

    /// <summary>VIRTIO_NET_F_HOST_ECN (13).</summary>
    public const int NetHostEcn = 13;

    /// <summary>VIRTIO_NET_F_HOST_UFO (14).</summary>
    public const int NetHostUfo = 14;

    /// <summary>VIRTIO_NET_F_MRG_RXBUF (15): the driver can merge receive buffers (num_buffers).</summary>
    public const int NetMrgRxbuf = 15;

    /// <summary>VIRTIO_NET_F_STATUS (16): the configuration status field is available.</summary>
    public const int NetStatus = 16;

    /// <summary>VIRTIO_NET_F_CTRL_VQ (17): a control virtqueue exists.</summary>
    public const int NetCtrlVq = 17;

    /// <summary>VIRTIO_NET_F_CTRL_RX (18).</summary>
    public const int NetCtrlRx = 18;

    /// <summary>VIRTIO_NET_F_CTRL_VLAN (19).</summary>
    public const int NetCtrlVlan = 19;

    /// <summary>VIRTIO_NET_F_CTRL_RX_EXTRA (20).</summary>
    public const int NetCtrlRxExtra = 20;

    /// <summary>VIRTIO_NET_F_GUEST_ANNOUNCE (21): the driver can send gratuitous packets after migration.</summary>
    public const int NetGuestAnnounce = 21;

    /// <summary>VIRTIO_NET_F_MQ (22): multiqueue with automatic receive steering.</summary>
    public const int NetMq = 22;

    /// <summary>VIRTIO_NET_F_CTRL_MAC_ADDR (23).</summary>
    public const int NetCtrlMacAddr = 23;

    /// <summary>VIRTIO_F_NOTIFY_ON_EMPTY (24, legacy only, §6).</summary>
    public const int NotifyOnEmpty = 24;

    /// <summary>VHOST_F_LOG_ALL (26, linux vhost_types.h): the backend logs every write to guest memory (live migration).</summary>
    public const int VhostLogAll = 26;

    /// <summary>VIRTIO_F_ANY_LAYOUT (27, legacy only, §6).</summary>
    public const int AnyLayout = 27;

    /// <summary>VIRTIO_F_INDIRECT_DESC (28, §6; VIRTIO_RING_F_INDIRECT_DESC): indirect descriptor tables.</summary>
    public const int RingIndirectDesc = 28;

    /// <summary>VIRTIO_F_EVENT_IDX (29, §6; VIRTIO_RING_F_EVENT_IDX): used_event / avail_event suppression.</summary>
    public const int RingEventIdx = 29;

    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES (30): reuses the reserved UNUSED bit; gates GET/SET_PROTOCOL_FEATURES.</summary>
    public const int VhostUserProtocolFeatures = 30;

    /// <summary>VIRTIO_F_VERSION_1 (32, §6): virtio 1.x (little-endian, 12-byte net header).</summary>
    public const int Version1 = 32;

    /// <summary>VIRTIO_F_ACCESS_PLATFORM (33, §6; formerly IOMMU_PLATFORM): ring and buffer addresses are IOVAs.</summary>
    public const int AccessPlatform = 33;

    /// <summary>VIRTIO_F_RING_PACKED (34, §6): packed virtqueue layout.</summary>
    public const int RingPacked = 34;

    /// <summary>VIRTIO_F_IN_ORDER (35, §6): buffers are used in the order they were made available.</summary>
    public const int InOrder = 35;

    /// <summary>VIRTIO_F_ORDER_PLATFORM (36, §6).</summary>
    public const int OrderPlatform = 36;

    /// <summary>VIRTIO_F_SR_IOV (37, §6).</summary>
    public const int SrIov = 37;

    /// <summary>VIRTIO_F_NOTIFICATION_DATA (38, §6).</summary>
    public const int NotificationData = 38;

    /// <summary>VIRTIO_F_NOTIF_CONFIG_DATA (39, §6).</summary>
    public const int NotifConfigData = 39;

    /// <summary>VIRTIO_F_RING_RESET (40, §6).</summary>
    public const int RingReset = 40;

    /// <summary>VIRTIO_NET_F_HASH_REPORT (57).</summary>
    public const int NetHashReport = 57;

    /// <summary>VIRTIO_NET_F_RSS (60).</summary>
    public const int NetRss = 60;

    /// <summary>VIRTIO_NET_F_RSC_EXT (61).</summary>
    public const int NetRscExt = 61;

    /// <summary>VIRTIO_NET_F_STANDBY (62).</summary>
    public const int NetStandby = 62;

    /// <summary>VIRTIO_NET_F_SPEED_DUPLEX (63).</summary>
    public const int NetSpeedDuplex = 63;

    /// <summary>The mask of feature bit <paramref name="bit"/> (0-63).</summary>
    public static ulong Mask(int bit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bit, 63);
        return 1UL << bit;
    }

    /// <summary>Whether feature bit <paramref name="bit"/> (0-63) is set in <paramref name="features"/>.</summary>
    public static bool IsSet(ulong features, int bit) => (features & Mask(bit)) != 0;

    /// <summary>
    /// The virtio-net header size a device and driver that negotiated <paramref name="features"/> use:
    /// <see cref="Packets.VirtioNetHeader.Size"/> with VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF, else
    /// <see cref="Packets.VirtioNetHeader.LegacySize"/>.
    /// </summary>
    public static int NetHeaderSize(ulong features) =>
        IsSet(features, Version1) || IsSet(features, NetMrgRxbuf) ? Packets.VirtioNetHeader.Size : Packets.VirtioNetHeader.LegacySize;
}
