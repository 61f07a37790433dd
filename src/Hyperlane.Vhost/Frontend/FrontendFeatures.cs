using System.Globalization;
using System.Text;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// Feature negotiation of the frontend (virtio 1.2 §3.1.1 "Driver Requirements: Device Initialization": the driver
/// accepts a subset of what the device offers). What Hyperlane's virtio_user may ask for: VIRTIO_F_VERSION_1
/// (required), VHOST_USER_F_PROTOCOL_FEATURES, and per <see cref="VhostUserFrontendOptions"/> VIRTIO_NET_F_MRG_RXBUF,
/// VIRTIO_F_IN_ORDER, VIRTIO_F_RING_PACKED and VIRTIO_NET_F_MQ. Never a bit the backend did not offer. Not asked
/// for: offloads (CSUM, TSO...), VIRTIO_F_EVENT_IDX and INDIRECT_DESC (poll mode needs neither), VIRTIO_NET_F_CTRL_VQ
/// (the frontend answers the control queue itself, as DPDK's virtio_user does: enabling queue pairs is
/// SET_VRING_ENABLE), VIRTIO_F_ACCESS_PLATFORM (IOVA = VA).
/// </summary>
public static class FrontendFeatures
{
    /// <summary>Protocol features the frontend may use: REPLY_ACK (acknowledged requests) and MQ (GET_QUEUE_NUM).</summary>
    public const VhostUserProtocolFeatures Supported = VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Mq;

    /// <summary>The virtio features <paramref name="options"/> allow.</summary>
    public static ulong Wanted(VhostUserFrontendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ulong wanted = Bit(VirtioFeatures.Version1) | Bit(VirtioFeatures.VhostUserProtocolFeatures);
        wanted |= options.MergeableRxBuffers ? Bit(VirtioFeatures.NetMrgRxbuf) : 0;
        wanted |= options.InOrder ? Bit(VirtioFeatures.InOrder) : 0;
        wanted |= options.PackedRing ? Bit(VirtioFeatures.RingPacked) : 0;
        wanted |= options.QueuePairs > 1 ? Bit(VirtioFeatures.NetMq) : 0;
        return wanted;
    }

    /// <summary>
    /// The features to SET: what <paramref name="options"/> want and the backend <paramref name="offered"/>. On a
    /// reconnection (<paramref name="previous"/> set) exactly the features of the first connection, since the rings
    /// and buffers were laid out for them.
    /// </summary>
    /// <exception cref="VhostUserFrontendException">VERSION_1 is not offered; MQ is not offered for more than one queue pair; a feature negotiated before is missing; or the result needs a power-of-two queue size it does not have.</exception>
    public static ulong Negotiate(ulong offered, VhostUserFrontendOptions options, ulong? previous = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((offered & Bit(VirtioFeatures.Version1)) == 0)
        {
            throw new VhostUserFrontendException(
                VhostUserRequest.GetFeatures,
                $"the backend offers 0x{offered:X} ({Describe(offered)}) without VIRTIO_F_VERSION_1; Hyperlane's virtio_user drives virtio 1.x devices only");
        }

        if (options.QueuePairs > 1 && (offered & Bit(VirtioFeatures.NetMq)) == 0)
        {
            throw new VhostUserFrontendException(
                VhostUserRequest.GetFeatures,
                string.Create(CultureInfo.InvariantCulture, $"{options.QueuePairs} queue pairs need VIRTIO_NET_F_MQ, which the backend does not offer (0x{offered:X}: {Describe(offered)})"));
        }

        if (previous is { } before)
        {
            ulong missing = before & ~offered;
            if (missing != 0)
            {
                throw new VhostUserFrontendException(
                    VhostUserRequest.GetFeatures,
                    $"the backend that reconnected lacks 0x{missing:X} ({Describe(missing)}), negotiated with the first backend; the rings were laid out for 0x{before:X} ({Describe(before)})");
            }

            return before;
        }

        ulong negotiated = offered & Wanted(options);
        if ((negotiated & Bit(VirtioFeatures.RingPacked)) == 0 && !SplitVirtqueueLayout.IsValidQueueSize((uint)options.QueueSize))
        {
            throw new VhostUserFrontendException(
                VhostUserRequest.GetFeatures,
                string.Create(CultureInfo.InvariantCulture, $"the backend does not offer VIRTIO_F_RING_PACKED, and a split ring cannot have {options.QueueSize} descriptors (not a power of two)"));
        }

        return negotiated;
    }

    /// <summary>The names of the feature bits in <paramref name="features"/>, e.g. "VERSION_1 | MRG_RXBUF | bit 44".</summary>
    public static string Describe(ulong features)
    {
        if (features == 0)
        {
            return "none";
        }

        var text = new StringBuilder();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((features & (1UL << bit)) == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(" | ");
            }

            text.Append(Name(bit));
        }

        return text.ToString();
    }

    private static ulong Bit(int bit) => 1UL << bit;

    private static string Name(int bit) => bit switch
    {
        VirtioFeatures.NetCsum => "CSUM",
        VirtioFeatures.NetGuestCsum => "GUEST_CSUM",
        VirtioFeatures.NetMtu => "MTU",
        VirtioFeatures.NetMac => "MAC",
        VirtioFeatures.NetGuestTso4 => "GUEST_TSO4",
        VirtioFeatures.NetGuestTso6 => "GUEST_TSO6",
        VirtioFeatures.NetHostTso4 => "HOST_TSO4",
        VirtioFeatures.NetHostTso6 => "HOST_TSO6",
        VirtioFeatures.NetMrgRxbuf => "MRG_RXBUF",
        VirtioFeatures.NetStatus => "STATUS",
        VirtioFeatures.NetCtrlVq => "CTRL_VQ",
        VirtioFeatures.NetCtrlRx => "CTRL_RX",
        VirtioFeatures.NetGuestAnnounce => "GUEST_ANNOUNCE",
        VirtioFeatures.NetMq => "MQ",
        VirtioFeatures.NotifyOnEmpty => "NOTIFY_ON_EMPTY",
        VirtioFeatures.VhostLogAll => "LOG_ALL",
        VirtioFeatures.AnyLayout => "ANY_LAYOUT",
        VirtioFeatures.RingIndirectDesc => "INDIRECT_DESC",
        VirtioFeatures.RingEventIdx => "EVENT_IDX",
        VirtioFeatures.VhostUserProtocolFeatures => "PROTOCOL_FEATURES",
        VirtioFeatures.Version1 => "VERSION_1",
        VirtioFeatures.AccessPlatform => "ACCESS_PLATFORM",
        VirtioFeatures.RingPacked => "RING_PACKED",
        VirtioFeatures.InOrder => "IN_ORDER",
        _ => string.Create(CultureInfo.InvariantCulture, $"bit {bit}"),
    };
}
