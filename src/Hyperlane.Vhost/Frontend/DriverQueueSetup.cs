using Hyperlane.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>What a driver-side virtqueue is: its vring index, size, role, the negotiated features and, for receive, its pool.</summary>
public sealed record DriverQueueSetup
{
    /// <summary>The vring index (receiveq N = 2N, transmitq N = 2N+1), 0 to 255.</summary>
    public required int VringIndex { get; init; }

    /// <summary>Descriptors in the ring: a power of two for split rings; 1 to 32768.</summary>
    public required int Size { get; init; }

    /// <summary>Receive or transmit.</summary>
    public required DriverQueueRole Role { get; init; }

    /// <summary>
    /// The negotiated virtio features (VIRTIO_F_VERSION_1 is required; VIRTIO_NET_F_MRG_RXBUF and VIRTIO_F_IN_ORDER
    /// change the queue's behaviour; VIRTIO_F_RING_PACKED must match the queue type).
    /// </summary>
    public ulong Features { get; init; } = 1UL << VirtioFeatures.Version1;

    /// <summary>Receive queues: the pool that refills the ring (its region must be in the memory table).</summary>
    public Mempool? RxPool { get; init; }

    /// <summary>The port number written into received mbufs.</summary>
    public ushort Port { get; init; }
}
