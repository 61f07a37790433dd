using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// Discovery against the real kernel: veths in a namespace the test owns (MAC, ifindex and addresses come
/// from rtnetlink there) and a built sysfs tree that marks some of them NetVSC or PCI VF. The host's own
/// interfaces are never in the namespace, so they can never be selected.
/// </summary>
public class NamespaceDiscoveryTests
{
    private const string MacA = "00:0d:3a:aa:00:01";
    private const string MacB = "00:0d:3a:bb:00:02";
    private const string MacX = "00:0d:3a:ee:00:09";

    [SkippableFact]
    public void Auto_mode_picks_exactly_the_unrouted_netvsc_marked_veths()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var tree = new FakeHostTree();

        var (nv1, _) = ns.AddVethPair(MacA);            // NetVSC, unrouted
        var (nv2, _) = ns.AddVethPair(MacB);            // NetVSC, routed
        var (vf1, _) = ns.AddVethPair(MacA);            // PCI VF with nv1's MAC
        var (vfx, _) = ns.AddVethPair(MacX);            // PCI VF with another MAC
        var (twin, _) = ns.AddVethPair(MacA);           // nv1's MAC, but not PCI
        var (plain, _) = ns.AddVethPair();              // no class_id at all
        var (garb, _) = ns.AddVethPair();               // class_id garbage
        var (badType, _) = ns.AddVethPair();            // NetVSC class_id, type not a number
        var (noDriver, _) = ns.AddVethPair();           // NetVSC, driver link broken
        ns.AddAddress(nv2, "192.0.2.1/24");

        tree.MarkNetvsc(nv1);
        tree.MarkNetvsc(nv2);
        tree.MarkPciVf(vf1, "0002:00:02.0", "mlx5_core");
        tree.MarkPciVf(vfx, "0003:00:02.0", "mlx5_core");
        tree.AddVirtual(twin);
        tree.AddVirtual(plain);
        tree.MarkNetvsc(garb, classId: "{this-is-not-a-guid}");
        tree.MarkNetvsc(badType, type: "ether");
        string id = tree.MarkNetvsc(noDriver, driver: null);
        tree.RawLink($"{FakeHostTree.VmbusDevicesDir}/{id}/driver", "../../../../../bus/vmbus/drivers/vanished");

        var discovery = new NetvscDiscovery(tree.Root);
        NetvscScan scan = ns.Run(() => discovery.Scan());
        NetvscSelection selection = scan.SelectDefault();

        Assert.Equal(new[] { nv1, noDriver }.Order(StringComparer.Ordinal), selection.Selected.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { nv1, nv2, noDriver }.Order(StringComparer.Ordinal), scan.Interfaces.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(scan.Interfaces, i => i.Name is "eth0" or "lo");
        Assert.All(scan.Interfaces, i => Assert.StartsWith("hv", i.Name, StringComparison.Ordinal));

        // MAC and ifindex are the kernel's.
        NetvscInterface a = scan.FindByName(nv1)!;
        Assert.Equal(ns.IfIndex(nv1), a.IfIndex);
        Assert.Equal(MacAddress.Parse(MacA), a.Mac);
        Assert.False(a.IsRouted);
        Assert.Equal("hv_netvsc", a.Driver);

        // VF: same MAC and PCI; not the twin with the same MAC, not the PCI one with another MAC.
        Assert.NotNull(a.Vf);
        Assert.Equal(vf1, a.Vf.Name);
        Assert.Equal(ns.IfIndex(vf1), a.Vf.IfIndex);
        Assert.Equal("0002:00:02.0", a.Vf.PciAddress);
        Assert.Equal("mlx5_core", a.Vf.Driver);
        Assert.False(a.Vf.IsEnslaved);
        Assert.DoesNotContain(scan.Interfaces, i => i.Vf?.Name == vfx || i.Vf?.Name == twin);
        Assert.Contains("not a PCI device", Assert.Single(scan.Skipped, s => s.Name == twin).Reason, StringComparison.Ordinal);

        // Routed: skipped by the default selection, with the reason.
        SkippedInterface routed = Assert.Single(selection.Skipped);
        Assert.Equal(nv2, routed.Name);
        Assert.Equal(SkipKind.Routed, routed.Kind);
        Assert.Equal($"{nv2} has addresses 192.0.2.1/24: skipped so the management NIC is not taken; name it with iface= to use it", routed.Reason);
        Assert.Equal(["192.0.2.1/24"], scan.FindByName(nv2)!.Addresses);

        // Bad sysfs content: skipped (or the field unknown) with a reason, never an exception.
        Assert.Equal(SkipKind.Unusable, Assert.Single(scan.Skipped, s => s.Name == garb).Kind);
        Assert.Contains("is not a GUID", Assert.Single(scan.Skipped, s => s.Name == garb).Reason, StringComparison.Ordinal);
        Assert.Contains("is not a number", Assert.Single(scan.Skipped, s => s.Name == badType).Reason, StringComparison.Ordinal);
        Assert.Equal(SkipKind.NotNetvsc, Assert.Single(scan.Skipped, s => s.Name == plain).Kind);
        NetvscInterface broken = scan.FindByName(noDriver)!;
        Assert.Null(broken.Driver);
        Assert.Contains("does not resolve", broken.DriverProblem, StringComparison.Ordinal);

        // The veth peers are not in the tree: not NetVSC.
        Assert.All(scan.Skipped.Where(s => s.Name.StartsWith("hvb", StringComparison.Ordinal)), s => Assert.Equal(SkipKind.NotNetvsc, s.Kind));
    }

    [SkippableFact]
    public void Vf_enslaved_to_the_netvsc_netdev_is_reported_as_such()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var tree = new FakeHostTree();

        // A bridge stands for the NetVSC netdev (only a master can have slaves); the VF veth is enslaved to it.
        string br = NetNamespace.UniqueIfName("hvbr");
        ns.Ip("link", "add", br, "type", "bridge");
        ns.Ip("link", "set", br, "address", MacA);
        ns.SetUp(br);
        var (vf, _) = ns.AddVethPair(MacA);
        ns.Ip("link", "set", vf, "master", br);
        tree.MarkNetvsc(br);
        tree.MarkPciVf(vf, "7870:00:02.0", "mana");

        NetvscScan scan = ns.Run(() => new NetvscDiscovery(tree.Root).Scan());

        NetvscInterface n = Assert.Single(scan.Interfaces);
        Assert.Equal(br, n.Name);
        Assert.NotNull(n.Vf);
        Assert.Equal(vf, n.Vf.Name);
        Assert.True(n.Vf.IsEnslaved);
        Assert.Equal("mana", n.Vf.Driver);
        Assert.Equal("7870:00:02.0", n.Vf.PciAddress);
    }

    [SkippableFact]
    public void Vf_found_again_after_rename_and_gone_after_delete()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var tree = new FakeHostTree();
        var (nv, _) = ns.AddVethPair(MacA);
        var (vf, _) = ns.AddVethPair(MacA);
        tree.MarkNetvsc(nv);
        tree.MarkPciVf(vf, "0002:00:02.0");
        var discovery = new NetvscDiscovery(tree.Root);
        Assert.Equal(vf, ns.Run(() => discovery.Scan()).FindByName(nv)!.Vf!.Name);

        // udev renames the VF: a new name (marked PCI in sysfs as the kernel would) with the same MAC.
        string renamed = NetNamespace.UniqueIfName("hvr");
        ns.SetDown(vf);
        ns.Ip("link", "set", vf, "name", renamed);
        tree.MarkPciVf(renamed, "0002:00:02.0");
        NetvscVf? again = ns.Run(() => discovery.Scan()).FindByName(nv)!.Vf;
        Assert.Equal(renamed, again?.Name);

        ns.DeleteLink(renamed);
        Assert.Null(ns.Run(() => discovery.Scan()).FindByName(nv)!.Vf);
    }

    [SkippableFact]
    public void No_marked_veth_means_no_selection()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var tree = new FakeHostTree();
        ns.AddVethPair(MacA);
        NetvscScan scan = ns.Run(() => new NetvscDiscovery(tree.Root).Scan());
        Assert.Empty(scan.Interfaces);
        Assert.Empty(scan.SelectDefault().VdevArguments);
        Assert.Contains(scan.Skipped, s => s.Name == "lo");
    }
}
