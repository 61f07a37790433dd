namespace Hyperlane.Memory;

/// <summary>Per-packet offload flags (DPDK's ol_flags; bit positions are ours).</summary>
[Flags]
public enum MbufOffloadFlags : ulong
{
    None = 0,

    // Receive side: what the port found or did.
    RxVlan = 1UL << 0,
    RxRssHash = 1UL << 1,
    RxIpChecksumGood = 1UL << 2,
    RxIpChecksumBad = 1UL << 3,
    RxL4ChecksumGood = 1UL << 4,
    RxL4ChecksumBad = 1UL << 5,
    RxVlanStripped = 1UL << 6,
    RxLro = 1UL << 7,
    RxL4ChecksumNone = 1UL << 8,

    // Transmit side: what the application asks the port to do.
    TxVlan = 1UL << 32,
    TxIpChecksum = 1UL << 33,
    TxTcpChecksum = 1UL << 34,
    TxUdpChecksum = 1UL << 35,
    TxTcpSegmentation = 1UL << 36,
    TxIpv4 = 1UL << 37,
    TxIpv6 = 1UL << 38,
    TxUdpSegmentation = 1UL << 39,

    /// <summary>The mbuf's data lives in an external buffer (see <see cref="ExternalBufferInfo"/>).</summary>
    ExternalAttached = 1UL << 62,
}
