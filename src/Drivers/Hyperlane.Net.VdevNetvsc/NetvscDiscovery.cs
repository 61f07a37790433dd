using System.Globalization;
using System.Net;
using Hyperlane.Linux.Netlink;
using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// Finds NetVSC netdevs and their VFs, as DPDK's net_vdev_netvsc does (dpdk-drivers.md §4.4):
/// <list type="bullet">
/// <item>a netdev N is NetVSC when <c>/sys/class/net/N/device/class_id</c> reads exactly
/// <see cref="NetvscClassId"/> and <c>/sys/class/net/N/type</c> is 1 (ARPHRD_ETHER);</item>
/// <item>its ifindex, MAC and addresses come from the kernel (rtnetlink, in the calling thread's network
/// namespace); any IPv4/IPv6 address makes it routed;</item>
/// <item>its VF is a non-NetVSC netdev with the same MAC whose <c>device/subsystem</c> link ends in
/// <c>pci</c>; the VF's PCI address is the basename of its <c>device</c> link.</item>
/// </list>
/// Every sysfs read goes through <see cref="Tree"/>, whose root the caller chooses. Bad sysfs content never
/// throws: the netdev is skipped, or the field reported unknown, with a reason. Only the kernel calls
/// (opening rtnetlink, dumps) can throw, with the exceptions <see cref="RtNetlink"/> documents.
/// Immutable and thread-safe.
/// </summary>
public sealed class NetvscDiscovery
{
    /// <summary>The VMBus class GUID of a Hyper-V synthetic network adapter, as sysfs prints it.</summary>
    public const string NetvscClassId = "{f8615163-df3e-46c5-913f-f2d2f965ed0e}";

    /// <summary>The vdev driver name discovery serves (its alias is eth_vdev_netvsc).</summary>
    public const string DriverName = "net_vdev_netvsc";

    private const string ClassNet = "/sys/class/net";
    private const string VmbusDevices = "/sys/bus/vmbus/devices";

    /// <summary>Discovery over the tree at <paramref name="root"/> (null: <see cref="Linux.HostFs.Root"/>).</summary>
    public NetvscDiscovery(string? root = null)
        : this(new SysfsTree(root))
    {
    }

    public NetvscDiscovery(SysfsTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        Tree = tree;
    }

    /// <summary>The tree every sysfs read goes through.</summary>
    public SysfsTree Tree { get; }

    /// <summary>"192.0.2.1/24" or "fe80::1/64".</summary>
    public static string FormatAddress(AddressInfo address)
    {
        ArgumentNullException.ThrowIfNull(address);
        string text = address.Address.Length is 4 or 16 ? new IPAddress(address.Address).ToString() : Convert.ToHexString(address.Address);
        return string.Create(CultureInfo.InvariantCulture, $"{text}/{address.PrefixLength}");
    }

    /// <summary>What sysfs says about netdev <paramref name="name"/>. Reads only sysfs; never throws for its content.</summary>
    public NetDeviceInfo Inspect(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!SysfsFormats.IsInterfaceName(name))
        {
            return new NetDeviceInfo(SysfsTree.Printable(name), NetDeviceKind.Unusable, $"'{SysfsTree.Printable(name)}' is not an interface name");
        }

        string dir = $"{ClassNet}/{name}";
        if (!Tree.DirectoryExists(dir))
        {
            return new NetDeviceInfo(name, NetDeviceKind.Absent, $"{name}: no {dir}");
        }

        string device = dir + "/device";
        SysfsLink deviceLink = Tree.ReadLink(device);
        if (!Tree.DirectoryExists(device))
        {
            return deviceLink.Target is null
                ? new NetDeviceInfo(name, NetDeviceKind.Other, $"{name}: no {device}: a virtual interface, not a VMBus or PCI device")
                : new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: {deviceLink.Problem}");
        }

        SysfsValue classId = Tree.ReadAttribute(device + "/class_id");
        if (classId.IsMissing)
        {
            return InspectNonVmbus(name, device, deviceLink);
        }

        if (!classId.IsRead)
        {
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: {classId.Problem}");
        }

        string id = classId.Value!;
        if (!SysfsFormats.IsBracedGuid(id))
        {
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: {device}/class_id '{SysfsTree.Printable(id)}' is not a GUID");
        }

        if (id != NetvscClassId)
        {
            return string.Equals(id, NetvscClassId, StringComparison.OrdinalIgnoreCase)
                ? new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: {device}/class_id {id} differs from {NetvscClassId} in case (the kernel writes lowercase)", id)
                : new NetDeviceInfo(name, NetDeviceKind.Other, $"{name}: VMBus class {id}, not NetVSC", id);
        }

        SysfsValue typeText = Tree.ReadAttribute(dir + "/type");
        if (!typeText.IsRead)
        {
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: NetVSC class_id, but {typeText.Problem}", id);
        }

        if (!SysfsFormats.TryParseArphrdType(typeText.Value, out int type))
        {
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: NetVSC class_id, but {dir}/type '{SysfsTree.Printable(typeText.Value!)}' is not a number", id);
        }

        if (type != SysfsFormats.ArphrdEther)
        {
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: NetVSC class_id, but type {type} is not Ethernet (ARPHRD_ETHER = 1)", id, type);
        }

        (string? driver, string? driverProblem) = ReadDriver(device + "/driver");
        return new NetDeviceInfo(name, NetDeviceKind.Netvsc, $"{name}: NetVSC (driver {driver ?? "unknown: " + driverProblem})", id, type, driver, driverProblem);
    }

    /// <summary>One pass in the calling thread's network namespace, with a rtnetlink socket of its own.</summary>
    /// <exception cref="Linux.LinuxException">The socket cannot be opened.</exception>
    /// <exception cref="NetlinkException">The kernel refused a dump.</exception>
    /// <exception cref="TimeoutException">The kernel did not answer.</exception>
    public NetvscScan Scan()
    {
        using var rtnl = new RtNetlink();
        return Scan(rtnl);
    }

    /// <summary>One pass using <paramref name="rtnl"/> (its namespace) for links and addresses.</summary>
    public NetvscScan Scan(RtNetlink rtnl)
    {
        ArgumentNullException.ThrowIfNull(rtnl);
        IReadOnlyList<LinkInfo> links = rtnl.DumpLinks();
        IReadOnlyList<AddressInfo> addresses = rtnl.DumpAddresses();
        return Scan(links, addresses);
    }

    /// <summary>
    /// One pass over links and addresses the caller dumped (the kernel's view) and the sysfs tree. Pure apart
    /// from sysfs reads, so it can be tested with made-up links.
    /// </summary>
    public NetvscScan Scan(IReadOnlyList<LinkInfo> links, IReadOnlyList<AddressInfo> addresses)
    {
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(addresses);
        var problems = new List<string>();
        var infos = new Dictionary<int, NetDeviceInfo>();
        NetDeviceInfo InfoOf(LinkInfo link)
        {
            if (!infos.TryGetValue(link.Index, out NetDeviceInfo? info))
            {
                info = Inspect(link.Name);
                infos[link.Index] = info;
            }

            return info;
        }

        var addressesByIndex = new Dictionary<int, List<string>>();
        foreach (AddressInfo a in addresses)
        {
            if (!addressesByIndex.TryGetValue(a.Index, out List<string>? list))
            {
                addressesByIndex[a.Index] = list = [];
            }

            list.Add(FormatAddress(a));
        }

        var interfaces = new List<NetvscInterface>();
        var skipped = new List<SkippedInterface>();
        var inNamespace = new HashSet<string>(StringComparer.Ordinal);
        foreach (LinkInfo link in links)
        {
            inNamespace.Add(link.Name);
            NetDeviceInfo info = InfoOf(link);
            if (info.Kind != NetDeviceKind.Netvsc)
            {
                continue;
            }

            if (link.Address.Length != MacAddress.Length)
            {
                skipped.Add(new SkippedInterface(link.Name, link.Index, SkipKind.Unusable,
                    $"{link.Name}: NetVSC in sysfs, but its hardware address has {link.Address.Length} bytes, not an Ethernet MAC"));
                continue;
            }

            var mac = new MacAddress(link.Address);
            NetvscVf? vf = FindVf(mac, link.Index, links, InfoOf);
            IReadOnlyList<string> own = addressesByIndex.TryGetValue(link.Index, out List<string>? l) ? l : [];
            interfaces.Add(new NetvscInterface(link.Name, link.Index, mac, own, info.Driver, info.DriverProblem, vf));
        }

        interfaces.Sort((a, b) => a.IfIndex.CompareTo(b.IfIndex));
        foreach (LinkInfo link in links)
        {
            NetDeviceInfo info = InfoOf(link);
            if (info.Kind == NetDeviceKind.Netvsc)
            {
                continue;
            }

            string reason = info.Reason;
            if (link.Address.Length == MacAddress.Length)
            {
                var mac = new MacAddress(link.Address);
                foreach (NetvscInterface owner in interfaces)
                {
                    if (owner.Mac != mac)
                    {
                        continue;
                    }

                    if (owner.Vf?.IfIndex == link.Index)
                    {
                        reason += $"; the VF of {owner.Name}";
                    }
                    else if (info.Kind == NetDeviceKind.PciDevice)
                    {
                        reason += $"; has {owner.Name}'s MAC too, but {owner.Vf?.Name} is taken as its VF";
                    }
                    else
                    {
                        reason += $"; has {owner.Name}'s MAC but is not a PCI device, so not its VF";
                    }
                }
            }

            skipped.Add(new SkippedInterface(link.Name, link.Index, info.Kind == NetDeviceKind.Unusable ? SkipKind.Unusable : SkipKind.NotNetvsc, reason));
        }

        // NetVSC netdevs sysfs knows but the kernel does not show in this namespace (sysfs belongs to the
        // namespace that mounted it): say so rather than silently ignoring them.
        if (Tree.TryList(ClassNet, out IReadOnlyList<string> names, out string? listProblem))
        {
            foreach (string name in names)
            {
                if (!inNamespace.Contains(name) && Inspect(name) is { Kind: NetDeviceKind.Netvsc })
                {
                    skipped.Add(new SkippedInterface(name, null, SkipKind.NotInNamespace, $"{name}: NetVSC in sysfs, but no such interface in this network namespace"));
                }
            }
        }
        else if (Tree.Exists(ClassNet))
        {
            problems.Add(listProblem!);
        }

        return new NetvscScan(interfaces, skipped, ListVmbusNetDevices(problems), problems);
    }

    /// <summary>
    /// The VF of the NetVSC netdev (<paramref name="mac"/>, <paramref name="netvscIfIndex"/>) among
    /// <paramref name="links"/>, or null. Reads sysfs only for links with that MAC, so a driver can call it
    /// on every alarm tick and link event. Prefers a candidate enslaved to the NetVSC netdev, then the
    /// lowest ifindex.
    /// </summary>
    public NetvscVf? FindVf(MacAddress mac, int netvscIfIndex, IReadOnlyList<LinkInfo> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        return FindVf(mac, netvscIfIndex, links, link => Inspect(link.Name));
    }

    /// <summary>The VMBus devices of the NetVSC class and their binding; empty without /sys/bus/vmbus.</summary>
    public IReadOnlyList<VmbusNetDevice> ListVmbusNetDevices() => ListVmbusNetDevices(null);

    private IReadOnlyList<VmbusNetDevice> ListVmbusNetDevices(List<string>? problems)
    {
        if (!Tree.TryList(VmbusDevices, out IReadOnlyList<string> ids, out string? problem))
        {
            if (Tree.Exists(VmbusDevices))
            {
                problems?.Add(problem!);
            }

            return [];
        }

        var devices = new List<VmbusNetDevice>();
        foreach (string id in ids)
        {
            string dir = $"{VmbusDevices}/{id}";
            if (Tree.ReadAttribute(dir + "/class_id").Value != NetvscClassId)
            {
                continue;
            }

            SysfsLink driverLink = Tree.ReadLink(dir + "/driver");
            string driver;
            string? odd = null;
            if (driverLink.IsMissing)
            {
                driver = VmbusNetDevice.Unbound;
            }
            else if (driverLink is { Name: { } n, Resolves: true })
            {
                driver = n;
            }
            else
            {
                driver = "unknown";
                odd = driverLink.Problem;
            }

            IReadOnlyList<string> net = Tree.List(dir + "/net");
            devices.Add(new VmbusNetDevice(SysfsTree.Printable(id), driver, net.Count > 0 ? net[0] : null, odd));
        }

        return devices;
    }

    private NetvscVf? FindVf(MacAddress mac, int netvscIfIndex, IReadOnlyList<LinkInfo> links, Func<LinkInfo, NetDeviceInfo> infoOf)
    {
        LinkInfo? best = null;
        NetDeviceInfo? bestInfo = null;
        foreach (LinkInfo link in links)
        {
            if (link.Index == netvscIfIndex || link.Address.Length != MacAddress.Length || new MacAddress(link.Address) != mac)
            {
                continue;
            }

            NetDeviceInfo info = infoOf(link);
            if (info.Kind != NetDeviceKind.PciDevice)
            {
                continue;
            }

            if (best is null || Better(link, best, netvscIfIndex))
            {
                best = link;
                bestInfo = info;
            }
        }

        return best is null
            ? null
            : new NetvscVf(best.Name, best.Index, mac, bestInfo!.PciAddress!, bestInfo.Driver, bestInfo.DriverProblem, best.MasterIndex == netvscIfIndex);

        static bool Better(LinkInfo candidate, LinkInfo current, int master)
        {
            bool a = candidate.MasterIndex == master, b = current.MasterIndex == master;
            return a != b ? a : candidate.Index < current.Index;
        }
    }

    private NetDeviceInfo InspectNonVmbus(string name, string device, SysfsLink deviceLink)
    {
        SysfsLink subsystem = Tree.ReadLink(device + "/subsystem");
        if (subsystem.Name != "pci")
        {
            string bus = subsystem.Name is { } s ? $"bus {s}" : "no device/subsystem";
            return new NetDeviceInfo(name, NetDeviceKind.Other, $"{name}: not a VMBus device (no device/class_id; {bus})");
        }

        if (!SysfsFormats.IsPciAddress(deviceLink.Name))
        {
            string what = deviceLink.Target is null ? "is not a link" : $"-> {SysfsTree.Printable(deviceLink.Target)} does not end in a PCI address";
            return new NetDeviceInfo(name, NetDeviceKind.Unusable, $"{name}: a PCI device, but {device} {what}");
        }

        (string? driver, string? driverProblem) = ReadDriver(device + "/driver");
        return new NetDeviceInfo(name, NetDeviceKind.PciDevice, $"{name}: PCI device {deviceLink.Name} (driver {driver ?? "unknown: " + driverProblem})",
            Driver: driver, DriverProblem: driverProblem, PciAddress: deviceLink.Name);
    }

    private (string? Driver, string? Problem) ReadDriver(string path)
    {
        SysfsLink link = Tree.ReadLink(path);
        if (link.IsMissing)
        {
            return (null, "unbound: no device/driver link");
        }

        return link is { Name: { } name, Resolves: true } ? (name, null) : (null, link.Problem);
    }
}
