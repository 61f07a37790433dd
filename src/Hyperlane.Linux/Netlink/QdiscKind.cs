namespace Hyperlane.Linux.Netlink;

/// <summary>Queueing disciplines Hyperlane installs.</summary>
public enum QdiscKind
{
    /// <summary>The ingress qdisc: handle ffff:, parent TC_H_INGRESS.</summary>
    Ingress,

    /// <summary>The multiq qdisc at the root: handle 1:.</summary>
    Multiq,
}
