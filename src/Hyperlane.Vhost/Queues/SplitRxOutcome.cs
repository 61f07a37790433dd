namespace Hyperlane.Vhost.Queues;

/// <summary>How placing one packet into guest receive buffers ended.</summary>
internal enum SplitRxOutcome
{
    /// <summary>Written and its used elements recorded.</summary>
    Delivered,

    /// <summary>Without MRG_RXBUF, longer than the chain at the head of the avail ring: dropped, the head left in place.</summary>
    Dropped,

    /// <summary>The avail ring ran out: nothing of the packet is consumed.</summary>
    NoBuffers,

    /// <summary>A malformed chain was met (counted): the heads taken for the packet went back with length 0; start it again at the next head.</summary>
    Retry,
}
