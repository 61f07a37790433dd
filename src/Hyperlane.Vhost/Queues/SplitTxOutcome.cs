namespace Hyperlane.Vhost.Queues;

/// <summary>How copying one transmit chain into mbufs ended.</summary>
internal enum SplitTxOutcome
{
    /// <summary>A packet is in the mbuf.</summary>
    Packet,

    /// <summary>The chain was malformed (counted); the head is returned with length 0.</summary>
    Fault,

    /// <summary>The pool ran out: the head is left in the avail ring for the next burst.</summary>
    NoMbufs,
}
