namespace Hyperlane.Linux.Netlink;

/// <summary>What <see cref="NetlinkParser.ParseDatagram"/> found in one datagram.</summary>
internal sealed class NetlinkParseSummary
{
    public List<LinkInfo> Links { get; } = [];

    public List<AddressInfo> Addresses { get; } = [];

    public List<QdiscInfo> Qdiscs { get; } = [];

    public List<FilterInfo> Filters { get; } = [];

    public List<(int Error, string? Message)> Errors { get; } = [];

    public int Malformed { get; set; }
}
