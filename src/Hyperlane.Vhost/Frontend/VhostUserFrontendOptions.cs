using System.Globalization;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// How a <see cref="VhostUserFrontend"/> connects and what it asks for; the devargs of DPDK's virtio_user
/// (<c>path</c>, <c>queues</c>, <c>queue_size</c>, <c>mrg_rxbuf</c>, <c>in_order</c>, <c>packed_vq</c>, <c>server</c>)
/// with the same defaults. A feature switched on here is used when the backend offers it (DPDK's semantics: the
/// devarg allows, the backend decides); VIRTIO_F_VERSION_1 is always required, and VIRTIO_NET_F_MQ when
/// <see cref="QueuePairs"/> is more than 1.
/// </summary>
public sealed record VhostUserFrontendOptions
{
    /// <summary>Most queue pairs: vring indexes are 8 bits (VHOST_MAX_QUEUE_PAIRS in DPDK is 128).</summary>
    public const int MaxQueuePairs = 128;

    /// <summary>The vhost-user socket (devarg <c>path</c>).</summary>
    public required string Path { get; init; }

    /// <summary>Queue pairs (devarg <c>queues</c>), 1 to 128; more than 1 needs VIRTIO_NET_F_MQ and VHOST_USER_PROTOCOL_F_MQ, and at most GET_QUEUE_NUM pairs.</summary>
    public int QueuePairs { get; init; } = 1;

    /// <summary>Descriptors per ring (devarg <c>queue_size</c>, default 256): a power of two for split rings, at most 32768.</summary>
    public int QueueSize { get; init; } = 256;

    /// <summary>Use VIRTIO_NET_F_MRG_RXBUF when offered (devarg <c>mrg_rxbuf</c>, default on).</summary>
    public bool MergeableRxBuffers { get; init; } = true;

    /// <summary>Use VIRTIO_F_IN_ORDER when offered (devarg <c>in_order</c>, default on).</summary>
    public bool InOrder { get; init; } = true;

    /// <summary>Use VIRTIO_F_RING_PACKED when offered (devarg <c>packed_vq</c>, default off).</summary>
    public bool PackedRing { get; init; }

    /// <summary>
    /// Listen on <see cref="Path"/> and wait for the backend to connect (devarg <c>server=1</c>); the frontend then
    /// reconnects by itself when the backend goes away and comes back. Client mode (default) connects.
    /// </summary>
    public bool Server { get; init; }

    /// <summary>Client: how long to retry connecting while no backend listens. Server: how long to wait for the backend's first connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait for each reply or acknowledgement (and for room to send).</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The port number written into received mbufs.</summary>
    public ushort Port { get; init; }

    /// <summary>Name of the ring area region (for logs and /proc/PID/maps).</summary>
    public string Name { get; init; } = "virtio_user";

    /// <summary>Checks the values that do not depend on the backend.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Path);
        ArgumentException.ThrowIfNullOrEmpty(Name);
        if (QueuePairs is < 1 or > MaxQueuePairs)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"QueuePairs is 1 to {MaxQueuePairs}, not {QueuePairs}"), nameof(QueuePairs));
        }

        if (!PackedVirtqueueLayout.IsValidQueueSize((uint)Math.Max(QueueSize, 0)))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"QueueSize is 1 to 32768, not {QueueSize}"), nameof(QueueSize));
        }

        if (!PackedRing && !SplitVirtqueueLayout.IsValidQueueSize((uint)QueueSize))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"QueueSize {QueueSize} is not a power of two, which a split ring needs"), nameof(QueueSize));
        }

        if ((ConnectTimeout < TimeSpan.Zero && ConnectTimeout != Timeout.InfiniteTimeSpan) || ReplyTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectTimeout must not be negative and ReplyTimeout must be positive");
        }
    }
}
