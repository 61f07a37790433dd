using Hyperlane.Core.Devices;
using Hyperlane.Linux.Netlink;
using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// Turns net_vdev_netvsc's devargs into the netdevs to attach to, over one discovery pass. Without iface= or
/// mac=: every unrouted NetVSC netdev; routed ones are skipped with the reason (the management NIC stays the
/// host's). iface= (repeatable) and mac= (repeatable) name netdevs; when both are given they must name the
/// same ones. A named netdev must be NetVSC unless force=1; a named routed one is used with a warning. Every
/// mistake is one <see cref="DevargsException"/> naming the key and the value. Pure: no kernel calls.
/// </summary>
public static class NetvscTargetSelector
{
    /// <summary>The selection, the lines to log as warnings, and what auto mode skipped.</summary>
    /// <exception cref="DevargsException">A named netdev does not exist, is not NetVSC (without force), or iface= and mac= disagree.</exception>
    public static IReadOnlyList<NetvscTarget> Select(
        string device,
        IReadOnlyList<string> ifaces,
        IReadOnlyList<MacAddress> macs,
        bool force,
        NetvscScan scan,
        IReadOnlyList<LinkInfo> links,
        IReadOnlyList<AddressInfo> addresses,
        NetvscDiscovery discovery,
        List<string> warnings,
        List<SkippedInterface> skipped)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(ifaces);
        ArgumentNullException.ThrowIfNull(macs);
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(discovery);
        ArgumentNullException.ThrowIfNull(warnings);
        ArgumentNullException.ThrowIfNull(skipped);

        if (ifaces.Count == 0 && macs.Count == 0)
        {
            NetvscSelection selection = scan.SelectDefault();
            skipped.AddRange(selection.Skipped);
            return [.. selection.Selected.Select(i => new NetvscTarget(i.Name, i.IfIndex, i.Mac, true, false))];
        }

        var byName = new List<NetvscTarget>();
        foreach (string name in ifaces)
        {
            NetvscTarget t = ByName(device, name, force, scan, links, addresses, discovery, warnings);
            if (byName.Any(x => x.IfIndex == t.IfIndex))
            {
                throw new DevargsException(device, "iface", $"iface={name} is given twice");
            }

            byName.Add(t);
        }

        var byMac = new List<NetvscTarget>();
        foreach (MacAddress mac in macs)
        {
            NetvscTarget t = ByMac(device, mac, force, scan, links, addresses, discovery, warnings);
            if (byMac.Any(x => x.IfIndex == t.IfIndex))
            {
                throw new DevargsException(device, "mac", $"mac={mac} is given twice");
            }

            byMac.Add(t);
        }

        if (byName.Count > 0 && byMac.Count > 0)
        {
            // Both keys: they must name the same netdevs (DPDK refuses both outright; naming one device two ways is harmless).
            foreach (NetvscTarget m in byMac)
            {
                if (!byName.Any(n => n.IfIndex == m.IfIndex))
                {
                    throw new DevargsException(device, "mac",
                        $"iface={string.Join(",iface=", ifaces)} and mac={m.Mac} name different devices: that MAC is {m.Name}'s");
                }
            }

            foreach (NetvscTarget n in byName)
            {
                if (!byMac.Any(m => m.IfIndex == n.IfIndex))
                {
                    throw new DevargsException(device, "iface",
                        $"iface={n.Name} (MAC {n.Mac}) and mac={string.Join(",mac=", macs)} name different devices");
                }
            }
        }

        var result = byName.Count > 0 ? byName : byMac;
        foreach (NetvscTarget t in result)
        {
            if (t.IsRouted)
            {
                string own = string.Join(", ", addresses.Where(a => a.Index == t.IfIndex).Select(NetvscDiscovery.FormatAddress));
                warnings.Add($"{t.Name} has addresses {own}: it is used because it was named, and the host loses its traffic while the port runs");
            }
        }

        return result;
    }

    private static NetvscTarget ByName(string device, string name, bool force, NetvscScan scan, IReadOnlyList<LinkInfo> links, IReadOnlyList<AddressInfo> addresses, NetvscDiscovery discovery, List<string> warnings)
    {
        if (!SysfsFormats.IsInterfaceName(name))
        {
            throw new DevargsException(device, "iface", $"iface={SysfsTree.Printable(name)} is not an interface name (1 to 15 characters, no '/', ':' or whitespace)");
        }

        if (scan.FindByName(name) is { } netvsc)
        {
            return new NetvscTarget(netvsc.Name, netvsc.IfIndex, netvsc.Mac, true, netvsc.IsRouted);
        }

        LinkInfo link = links.FirstOrDefault(l => l.Name == name)
            ?? throw new DevargsException(device, "iface", $"iface={name}: no such interface in this network namespace");
        if (scan.Skipped.FirstOrDefault(k => k.Name == name && k.Kind == SkipKind.Unusable) is { } unusable && discovery.Inspect(name).Kind == NetDeviceKind.Netvsc)
        {
            // NetVSC in sysfs, but the kernel's view makes it unusable (not a 6-byte MAC): say that, force cannot help.
            throw new DevargsException(device, "iface", $"iface={name}: {unusable.Reason}");
        }

        return Forced(device, "iface", $"iface={name}", link, force, addresses, discovery, warnings);
    }

    private static NetvscTarget ByMac(string device, MacAddress mac, bool force, NetvscScan scan, IReadOnlyList<LinkInfo> links, IReadOnlyList<AddressInfo> addresses, NetvscDiscovery discovery, List<string> warnings)
    {
        if (scan.FindByMac(mac) is { } netvsc)
        {
            return new NetvscTarget(netvsc.Name, netvsc.IfIndex, netvsc.Mac, true, netvsc.IsRouted);
        }

        var candidates = links.Where(l => l.Address.Length == MacAddress.Length && new MacAddress(l.Address) == mac).ToList();
        if (candidates.Count == 0)
        {
            throw new DevargsException(device, "mac", $"mac={mac}: no interface has this MAC in this network namespace");
        }

        // What force=1 takes: the first non-PCI netdev with the MAC (a PCI one is some NetVSC netdev's VF), by ifindex.
        LinkInfo pick = candidates.OrderBy(c => discovery.Inspect(c.Name).Kind == NetDeviceKind.PciDevice).ThenBy(c => c.Index).First();
        if (!force)
        {
            throw new DevargsException(device, "mac",
                $"mac={mac}: no NetVSC netdev has this MAC ({string.Join("; ", candidates.Select(c => discovery.Inspect(c.Name).Reason))}); add force=1 to use {pick.Name} anyway");
        }

        return Forced(device, "mac", $"mac={mac}", pick, force, addresses, discovery, warnings);
    }

    private static NetvscTarget Forced(string device, string key, string given, LinkInfo link, bool force, IReadOnlyList<AddressInfo> addresses, NetvscDiscovery discovery, List<string> warnings)
    {
        NetDeviceInfo info = discovery.Inspect(link.Name);
        if (!force)
        {
            throw new DevargsException(device, key, $"{given}: {link.Name} is not a NetVSC netdev ({info.Reason}); add force=1 to use it anyway");
        }

        if (link.Address.Length != MacAddress.Length)
        {
            throw new DevargsException(device, key, $"{given}: {link.Name} has no Ethernet MAC ({link.Address.Length}-byte hardware address), even force=1 cannot use it");
        }

        var mac = new MacAddress(link.Address);
        warnings.Add($"{link.Name}: not a NetVSC netdev ({info.Reason}), probed as one because of force=1");
        return new NetvscTarget(link.Name, link.Index, mac, false, addresses.Any(a => a.Index == link.Index));
    }
}
