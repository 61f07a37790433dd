namespace Hyperlane.Linux.Netlink;

/// <summary>Outcome of parsing one netlink message's payload.</summary>
internal enum NetlinkParseStatus
{
    /// <summary>Parsed.</summary>
    Ok,

    /// <summary>Well formed but not of interest (e.g. an address family other than IPv4/IPv6).</summary>
    Ignored,

    /// <summary>Failed validation; the message is skipped and counted.</summary>
    Malformed,
}
