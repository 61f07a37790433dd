using System.Globalization;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// How a <see cref="VhostUserBackend"/> serves its socket: where, in which role (DPDK net_vhost's <c>iface</c>,
/// <c>client</c>, <c>queues</c>, <c>tso</c> devargs), what it offers and how long it waits for the frontend.
/// </summary>
public sealed class VhostUserBackendOptions
{
    /// <summary>DPDK's VHOST_MAX_QUEUE_PAIRS.</summary>
    public const int MaxQueuePairs = 128;

    /// <summary>
    /// The virtio feature bits offered by default: VERSION_1, MRG_RXBUF, INDIRECT_DESC, EVENT_IDX, IN_ORDER, MQ, MTU,
    /// VHOST_F_LOG_ALL, RING_PACKED and VHOST_USER_F_PROTOCOL_FEATURES.
    /// </summary>
    public const ulong DefaultFeatures =
        (1UL << VirtioFeatures.Version1)
        | (1UL << VirtioFeatures.NetMrgRxbuf)
        | (1UL << VirtioFeatures.RingIndirectDesc)
        | (1UL << VirtioFeatures.RingEventIdx)
        | (1UL << VirtioFeatures.InOrder)
        | (1UL << VirtioFeatures.NetMq)
        | (1UL << VirtioFeatures.NetMtu)
        | (1UL << VirtioFeatures.VhostLogAll)
        | (1UL << VirtioFeatures.RingPacked)
        | (1UL << VirtioFeatures.VhostUserProtocolFeatures);

    /// <summary>What <see cref="Tso"/> adds: VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4 and VIRTIO_NET_F_HOST_TSO6 (the guest may hand us partial checksums and TSO frames).</summary>
    public const ulong TsoFeatures =
        (1UL << VirtioFeatures.NetCsum)
        | (1UL << VirtioFeatures.NetHostTso4)
        | (1UL << VirtioFeatures.NetHostTso6);

    /// <summary>Every virtio feature bit the backend can serve; <see cref="Features"/> must be a subset.</summary>
    public const ulong SupportedFeatures = DefaultFeatures | TsoFeatures;

    /// <summary>The protocol features offered by default: MQ, LOG_SHMFD, RARP, REPLY_ACK, NET_MTU, STATUS.</summary>
    public const VhostUserProtocolFeatures DefaultProtocolFeatures =
        VhostUserProtocolFeatures.Mq
        | VhostUserProtocolFeatures.LogShmfd
        | VhostUserProtocolFeatures.Rarp
        | VhostUserProtocolFeatures.ReplyAck
        | VhostUserProtocolFeatures.NetMtu
        | VhostUserProtocolFeatures.Status;

    /// <summary>Every protocol feature the backend implements; <see cref="ProtocolFeatures"/> must be a subset.</summary>
    public const VhostUserProtocolFeatures SupportedProtocolFeatures = DefaultProtocolFeatures;

    /// <summary>sizeof(sun_path), the terminating NUL included.</summary>
    private const int MaxSocketPathBytes = 108;

    /// <summary>The Unix socket path (DPDK <c>iface=</c>).</summary>
    public required string SocketPath { get; init; }

    /// <summary>
    /// False (default): server mode, listen on <see cref="SocketPath"/> and accept one frontend at a time. True: client
    /// mode (DPDK <c>client=1</c>), connect to it, retrying every <see cref="ReconnectInterval"/> until a frontend
    /// listens, and again after every disconnect.
    /// </summary>
    public bool Client { get; init; }

    /// <summary>Queue pairs offered (GET_QUEUE_NUM), 1 to <see cref="MaxQueuePairs"/>: there are 2 × this many vrings and slots.</summary>
    public int QueuePairs { get; init; } = 1;

    /// <summary>The virtio feature bits offered (GET_FEATURES), a subset of <see cref="SupportedFeatures"/>.</summary>
    public ulong Features { get; init; } = DefaultFeatures;

    /// <summary>Also offer host TSO and checksum offload (<see cref="TsoFeatures"/>; DPDK <c>tso=1</c>).</summary>
    public bool Tso { get; init; }

    /// <summary>The protocol features offered (GET_PROTOCOL_FEATURES), a subset of <see cref="SupportedProtocolFeatures"/>.</summary>
    public VhostUserProtocolFeatures ProtocolFeatures { get; init; } = DefaultProtocolFeatures;

    /// <summary>
    /// How long the rest of a message may take once its first byte arrived, and how long sending a reply may take.
    /// A frontend that sends half a message and goes silent is dropped after this.
    /// </summary>
    public TimeSpan MessageTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Client mode: the pause between connection attempts (DPDK: 1 s).</summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long retiring a queue waits for the data path to leave it before giving up (and keeping the memory mapped).</summary>
    public TimeSpan RetireTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often, while connected, the session looks at the queues' fault counters (logs new faults; drops the connection when a ring broke).</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The feature bits actually offered: <see cref="Features"/>, plus <see cref="TsoFeatures"/> when <see cref="Tso"/>.</summary>
    public ulong OfferedFeatures => Features | (Tso ? TsoFeatures : 0);

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(SocketPath))
        {
            throw new ArgumentException("the vhost-user socket path is empty", nameof(SocketPath));
        }

        if (SocketPath.Contains('\0', StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetByteCount(SocketPath) >= MaxSocketPathBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the vhost-user socket path '{SocketPath}' contains NUL or does not fit sun_path ({MaxSocketPathBytes - 1} bytes at most)"), nameof(SocketPath));
        }

        if (QueuePairs is < 1 or > MaxQueuePairs)
        {
            throw new ArgumentOutOfRangeException(nameof(QueuePairs), QueuePairs, string.Create(CultureInfo.InvariantCulture, $"queue pairs are 1 to {MaxQueuePairs}"));
        }

        if ((Features & ~SupportedFeatures) != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"feature bits 0x{Features & ~SupportedFeatures:X} cannot be served (supported: 0x{SupportedFeatures:X})"), nameof(Features));
        }

        if ((ProtocolFeatures & ~SupportedProtocolFeatures) != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"protocol feature bits 0x{(ulong)(ProtocolFeatures & ~SupportedProtocolFeatures):X} are not implemented (supported: 0x{(ulong)SupportedProtocolFeatures:X})"), nameof(ProtocolFeatures));
        }

        CheckTimeout(MessageTimeout, nameof(MessageTimeout));
        CheckTimeout(ReconnectInterval, nameof(ReconnectInterval));
        CheckTimeout(RetireTimeout, nameof(RetireTimeout));
        CheckTimeout(HealthCheckInterval, nameof(HealthCheckInterval));
    }

    private static void CheckTimeout(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(name, value, "a timeout is positive and at most one hour");
        }
    }
}
