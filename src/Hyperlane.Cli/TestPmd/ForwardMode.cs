namespace Hyperlane.Cli.TestPmd;

/// <summary>testpmd's forwarding modes (--forward-mode / set fwd).</summary>
public enum ForwardMode
{
    /// <summary>Forward packets unchanged.</summary>
    Io,

    /// <summary>Rewrite source MAC to the Tx port's and destination to the peer's (--eth-peer).</summary>
    Mac,

    /// <summary>Swap source and destination MAC.</summary>
    MacSwap,

    /// <summary>Receive and free.</summary>
    RxOnly,

    /// <summary>Generate UDP packets and transmit them.</summary>
    TxOnly,

    /// <summary>Like txonly over many flows (destination IP varies); received packets are freed.</summary>
    FlowGen,

    /// <summary>Answer ARP requests and ICMP echo requests; drop the rest.</summary>
    IcmpEcho,

    /// <summary>
    /// Hyperlane's built-in demo generator: transmit like txonly on the stream's own port and drain
    /// (count and free) what comes back on it. Not a testpmd mode; used by the default run.
    /// </summary>
    Generator,
}
