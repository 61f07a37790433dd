namespace Hyperlane.Linux.Netlink;

/// <summary>One qdisc from an RTM_GETQDISC dump.</summary>
public sealed record QdiscInfo(int Index, string Kind, uint Handle, uint Parent);
