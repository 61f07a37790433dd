using System.Globalization;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// The NetVSC netdevs the driver attaches to when the user named none (no iface=, no mac=): every unrouted
/// one. Routed ones (any IPv4/IPv6 address) are skipped with a reason, so Hyperlane never takes the
/// management NIC from the host (aregm/nff-go#562).
/// </summary>
/// <param name="Selected">The unrouted NetVSC netdevs, by ifindex.</param>
/// <param name="Skipped">The routed ones, each with the line to log.</param>
public sealed record NetvscSelection(IReadOnlyList<NetvscInterface> Selected, IReadOnlyList<SkippedInterface> Skipped)
{
    /// <summary>The default selection of <paramref name="scan"/>.</summary>
    public static NetvscSelection Default(NetvscScan scan)
    {
        ArgumentNullException.ThrowIfNull(scan);
        var selected = new List<NetvscInterface>();
        var skipped = new List<SkippedInterface>();
        foreach (NetvscInterface i in scan.Interfaces)
        {
            if (i.IsRouted)
            {
                skipped.Add(new SkippedInterface(i.Name, i.IfIndex, SkipKind.Routed, RoutedReason(i)));
            }
            else
            {
                selected.Add(i);
            }
        }

        return new NetvscSelection(selected, skipped);
    }

    /// <summary>The line that explains why a routed NetVSC netdev is left alone.</summary>
    public static string RoutedReason(NetvscInterface netdev)
    {
        ArgumentNullException.ThrowIfNull(netdev);
        return $"{netdev.Name} has addresses {string.Join(", ", netdev.Addresses)}: skipped so the management NIC is not taken; name it with iface= to use it";
    }

    /// <summary>
    /// One <c>--vdev</c> argument per selected netdev, numbered from 0:
    /// <c>net_vdev_netvsc0,iface=eth1</c>, <c>net_vdev_netvsc1,iface=eth2</c>.
    /// </summary>
    public IReadOnlyList<string> VdevArguments
    {
        get
        {
            var list = new string[Selected.Count];
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = string.Create(CultureInfo.InvariantCulture, $"{NetvscDiscovery.DriverName}{i},iface={Selected[i].Name}");
            }

            return list;
        }
    }
}
