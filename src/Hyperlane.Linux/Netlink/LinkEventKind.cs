namespace Hyperlane.Linux.Netlink;

/// <summary>What happened to a link.</summary>
public enum LinkEventKind
{
    New,
    Changed,
    Deleted,
}
