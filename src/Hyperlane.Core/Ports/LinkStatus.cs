using System.Globalization;

namespace Hyperlane.Core.Ports;

/// <summary>State of a port's link (DPDK's struct rte_eth_link).</summary>
public readonly record struct LinkStatus(bool IsUp, uint SpeedMbps, bool FullDuplex, bool AutoNegotiated)
{
    public static LinkStatus Down { get; } = new(false, LinkSpeed.None, true, true);

    public static LinkStatus Up(uint speedMbps) => new(true, speedMbps, true, true);

    public override string ToString()
    {
        if (!IsUp)
        {
            return "Link down";
        }

        string speed = SpeedMbps switch
        {
            LinkSpeed.Unknown => "Unknown",
            >= 1000 => string.Create(CultureInfo.InvariantCulture, $"{SpeedMbps / 1000} Gbps"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{SpeedMbps} Mbps"),
        };
        return $"Link up at {speed} {(FullDuplex ? "FDX" : "HDX")} {(AutoNegotiated ? "Autoneg" : "Fixed")}";
    }
}
