namespace Hyperlane.Linux.Netlink;

/// <summary>A link change seen by a <see cref="LinkMonitor"/>.</summary>
public sealed class LinkEventArgs : EventArgs
{
    public LinkEventArgs(LinkEventKind kind, int index, string name, bool isUp, bool hasCarrier)
    {
        Kind = kind;
        Index = index;
        Name = name;
        IsUp = isUp;
        HasCarrier = hasCarrier;
    }

    public LinkEventKind Kind { get; }

    public int Index { get; }

    public string Name { get; }

    public bool IsUp { get; }

    public bool HasCarrier { get; }

    public override string ToString() => $"{Kind} {Name} (ifindex {Index}) up={IsUp} carrier={HasCarrier}";
}
