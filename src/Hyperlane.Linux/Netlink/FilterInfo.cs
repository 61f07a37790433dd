namespace Hyperlane.Linux.Netlink;

/// <summary>One filter from an RTM_GETTFILTER dump.</summary>
public sealed record FilterInfo(int Index, uint Parent, ushort Priority, uint Handle, string Kind);
