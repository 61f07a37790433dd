using System.Text;

namespace Hyperlane.Linux.Netlink;

/// <summary>
/// One interface address. <see cref="Family"/> is 2 (AF_INET) or 10 (AF_INET6). Equality compares
/// <see cref="Address"/> by content.
/// </summary>
public sealed record AddressInfo(int Index, int Family, byte[] Address, int PrefixLength)
{
    public bool Equals(AddressInfo? other) =>
        other is not null && Index == other.Index && Family == other.Family && Address.AsSpan().SequenceEqual(other.Address) && PrefixLength == other.PrefixLength;

    public override int GetHashCode() => HashCode.Combine(Index, Family, PrefixLength);

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Index = {Index}, Family = {Family}, Address = {(Address.Length is 4 or 16 ? new System.Net.IPAddress(Address).ToString() : Convert.ToHexString(Address))}/{PrefixLength}");
        return true;
    }
}
