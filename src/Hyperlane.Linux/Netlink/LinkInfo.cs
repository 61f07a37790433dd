using System.Text;

namespace Hyperlane.Linux.Netlink;

/// <summary>
/// One network interface as an RTM_NEWLINK message describes it. Equality compares
/// <see cref="Address"/> by content.
/// </summary>
public sealed record LinkInfo(int Index, string Name, byte[] Address, int Mtu, LinkFlags Flags, string? Kind, int? MasterIndex, byte OperState)
{
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    public bool HasCarrier => (Flags & LinkFlags.LowerUp) != 0;

    public bool Promiscuous => (Flags & LinkFlags.Promisc) != 0;

    public bool AllMulticast => (Flags & LinkFlags.AllMulti) != 0;

    public bool Equals(LinkInfo? other) =>
        other is not null && Index == other.Index && Name == other.Name && Address.AsSpan().SequenceEqual(other.Address)
        && Mtu == other.Mtu && Flags == other.Flags && Kind == other.Kind && MasterIndex == other.MasterIndex && OperState == other.OperState;

    public override int GetHashCode() => HashCode.Combine(Index, Name, Mtu, Flags, Kind, MasterIndex, OperState);

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Index = {Index}, Name = {Name}, Address = {Convert.ToHexString(Address)}, Mtu = {Mtu}, Flags = {Flags}, ");
        builder.Append($"Kind = {Kind}, MasterIndex = {MasterIndex}, OperState = {OperState}");
        return true;
    }
}
