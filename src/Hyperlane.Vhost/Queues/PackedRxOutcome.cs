namespace Hyperlane.Vhost.Queues;

/// <summary>What became of one packet <see cref="PackedVhostQueue.Enqueue"/> tried to place.</summary>
internal enum PackedRxOutcome
{
    /// <summary>In the guest's buffers, used descriptors published.</summary>
    Delivered,

    /// <summary>Without VIRTIO_NET_F_MRG_RXBUF, longer than the chain it would have to fit: dropped, the chain kept for the next packet.</summary>
    TooLong,

    /// <summary>The ring has no (more) available buffers for it: nothing of it published; the burst stops here.</summary>
    NoBuffers,
}
