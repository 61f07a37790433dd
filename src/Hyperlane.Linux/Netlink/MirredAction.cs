namespace Hyperlane.Linux.Netlink;

/// <summary>What a mirred action does with a matched packet.</summary>
public enum MirredAction
{
    /// <summary>Redirect to the target's egress; the packet is stolen (TC_ACT_STOLEN).</summary>
    EgressRedirect,

    /// <summary>Copy to the target's egress; the packet continues (TC_ACT_PIPE).</summary>
    EgressMirror,
}
