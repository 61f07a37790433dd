using Hyperlane.Linux.Netlink;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// Discovery over made-up kernel links (as rtnetlink would list them) and a built sysfs tree: the pairing
/// and selection logic without root. The namespace tests prove the same against the real kernel.
/// </summary>
public class ScanTests
{
    private static readonly byte[] MacA = [0x00, 0x0d, 0x3a, 0x00, 0x00, 0x0a];
    private static readonly byte[] MacB = [0x00, 0x0d, 0x3a, 0x00, 0x00, 0x0b];
    private static readonly byte[] MacC = [0x00, 0x0d, 0x3a, 0x00, 0x00, 0x0c];

    private static LinkInfo Link(int index, string name, byte[] mac, int? master = null) =>
        new(index, name, mac, 1500, LinkFlags.Up, null, master, 6);

    private static AddressInfo V4(int index, byte a, byte b, byte c, byte d, int prefix) => new(index, 2, [a, b, c, d], prefix);

    [Fact]
    public void Pairs_vfs_by_mac_and_pci_and_selects_the_unrouted()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth0");
        tree.MarkNetvsc("eth1");
        tree.MarkNetvsc("eth2");
        tree.MarkPciVf("enP1", "0001:00:02.0", "mlx5_core");
        tree.MarkPciVf("enP2", "0002:00:02.0", "mana");
        tree.MarkPciVf("enP9", "0009:00:02.0", "mlx5_core");
        tree.AddVirtual("veth9");
        LinkInfo[] links =
        [
            Link(1, "lo", new byte[6]),
            Link(2, "eth0", MacA),
            Link(3, "eth1", MacB),
            Link(4, "eth2", MacC),
            Link(5, "enP1", MacA, master: 2),
            Link(6, "enP2", MacB, master: 3),
            Link(7, "enP9", [0x02, 0, 0, 0, 0, 9]), // a PCI netdev with another MAC: nobody's VF
            Link(8, "veth9", MacC),                  // eth2's MAC but not PCI: not its VF
        ];
        AddressInfo[] addresses = [V4(1, 127, 0, 0, 1, 8), V4(2, 10, 0, 0, 4, 24)];

        NetvscScan scan = new NetvscDiscovery(tree.Root).Scan(links, addresses);

        Assert.Equal(["eth0", "eth1", "eth2"], scan.Interfaces.Select(i => i.Name));
        NetvscInterface eth0 = scan.FindByName("eth0")!;
        Assert.True(eth0.IsRouted);
        Assert.Equal(["10.0.0.4/24"], eth0.Addresses);
        Assert.Equal("enP1", eth0.Vf!.Name);
        Assert.True(eth0.Vf.IsEnslaved);
        NetvscInterface eth1 = scan.FindByMac(new MacAddress(MacB))!;
        Assert.Equal("eth1", eth1.Name);
        Assert.Equal(3, eth1.IfIndex);
        Assert.Equal("hv_netvsc", eth1.Driver);
        Assert.False(eth1.IsRouted);
        Assert.Equal(new NetvscVf("enP2", 6, new MacAddress(MacB), "0002:00:02.0", "mana", null, true), eth1.Vf);
        Assert.Null(scan.FindByName("eth2")!.Vf);
        Assert.DoesNotContain(scan.Interfaces, i => i.Vf?.Name is "enP9" or "veth9");

        SkippedInterface veth9 = Assert.Single(scan.Skipped, s => s.Name == "veth9");
        Assert.Equal(SkipKind.NotNetvsc, veth9.Kind);
        Assert.Contains("has eth2's MAC but is not a PCI device", veth9.Reason, StringComparison.Ordinal);
        Assert.Contains("the VF of eth0", Assert.Single(scan.Skipped, s => s.Name == "enP1").Reason, StringComparison.Ordinal);
        Assert.Equal(SkipKind.NotNetvsc, Assert.Single(scan.Skipped, s => s.Name == "lo").Kind);

        NetvscSelection selection = scan.SelectDefault();
        Assert.Equal(["eth1", "eth2"], selection.Selected.Select(i => i.Name));
        SkippedInterface routed = Assert.Single(selection.Skipped);
        Assert.Equal(SkipKind.Routed, routed.Kind);
        Assert.Equal("eth0 has addresses 10.0.0.4/24: skipped so the management NIC is not taken; name it with iface= to use it", routed.Reason);
        Assert.Equal(["net_vdev_netvsc0,iface=eth1", "net_vdev_netvsc1,iface=eth2"], selection.VdevArguments);
    }

    [Fact]
    public void Enslaved_candidate_wins_over_a_lower_ifindex()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1");
        tree.MarkPciVf("vfa", "0001:00:02.0");
        tree.MarkPciVf("vfb", "0002:00:02.0");
        LinkInfo[] links = [Link(3, "eth1", MacA), Link(4, "vfa", MacA), Link(5, "vfb", MacA, master: 3)];
        var discovery = new NetvscDiscovery(tree.Root);
        Assert.Equal("vfb", discovery.Scan(links, []).Interfaces[0].Vf!.Name);
        Assert.Equal("vfa", discovery.FindVf(new MacAddress(MacA), 3, links[..2])!.Name);
        Assert.Null(discovery.FindVf(new MacAddress(MacB), 3, links));
        // The NetVSC netdev itself is never its own VF, even if sysfs called it PCI.
        Assert.Null(discovery.FindVf(new MacAddress(MacA), 4, [links[1]]));
    }

    [Fact]
    public void Odd_hardware_address_sysfs_only_and_garbage_are_skipped_with_reasons()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1");
        tree.MarkNetvsc("eth2");
        tree.MarkNetvsc("ghost");
        tree.MarkNetvsc("garb", classId: "not-a-guid");
        LinkInfo[] links = [Link(2, "eth1", [1, 2, 3]), Link(3, "eth2", MacA), Link(4, "garb", MacB)];

        NetvscScan scan = new NetvscDiscovery(tree.Root).Scan(links, []);

        Assert.Equal(["eth2"], scan.Interfaces.Select(i => i.Name));
        SkippedInterface odd = Assert.Single(scan.Skipped, s => s.Name == "eth1");
        Assert.Equal(SkipKind.Unusable, odd.Kind);
        Assert.Contains("3 bytes", odd.Reason, StringComparison.Ordinal);
        SkippedInterface ghost = Assert.Single(scan.Skipped, s => s.Name == "ghost");
        Assert.Equal(SkipKind.NotInNamespace, ghost.Kind);
        Assert.Null(ghost.IfIndex);
        SkippedInterface garb = Assert.Single(scan.Skipped, s => s.Name == "garb");
        Assert.Equal(SkipKind.Unusable, garb.Kind);
        Assert.Contains("'not-a-guid' is not a GUID", garb.Reason, StringComparison.Ordinal);
        Assert.Empty(scan.Problems);
    }

    [Fact]
    public void Empty_tree_finds_nothing_and_selects_nothing()
    {
        using var tree = new FakeHostTree();
        NetvscScan scan = new NetvscDiscovery(tree.Root).Scan([Link(1, "lo", new byte[6]), Link(2, "eth0", MacA)], [V4(2, 10, 0, 0, 4, 24)]);
        Assert.Empty(scan.Interfaces);
        Assert.Equal(2, scan.Skipped.Count);
        Assert.All(scan.Skipped, s => Assert.Equal(SkipKind.NotNetvsc, s.Kind));
        Assert.Empty(scan.VmbusDevices);
        Assert.Empty(scan.SelectDefault().VdevArguments);
    }

    [Fact]
    public void Vmbus_network_devices_and_their_binding()
    {
        using var tree = new FakeHostTree();
        string netvsc = tree.MarkNetvsc("eth1");
        string uio = tree.AddVmbusNetDevice("uio_hv_generic");
        string unbound = tree.AddVmbusNetDevice(null);
        string storage = tree.AddVmbusNetDevice("hv_storvsc");
        File.WriteAllText(tree.P($"{FakeHostTree.VmbusDevicesDir}/{storage}/class_id"), "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}\n");
        string garbage = tree.AddVmbusNetDevice("hv_netvsc");
        File.WriteAllText(tree.P($"{FakeHostTree.VmbusDevicesDir}/{garbage}/class_id"), "\0\0garbage");

        IReadOnlyList<VmbusNetDevice> devices = new NetvscDiscovery(tree.Root).ListVmbusNetDevices();

        Assert.Equal(3, devices.Count);
        Assert.Equal(new VmbusNetDevice(netvsc, "hv_netvsc", "eth1", null), Assert.Single(devices, d => d.Id == netvsc));
        Assert.Equal(new VmbusNetDevice(uio, "uio_hv_generic", null, null), Assert.Single(devices, d => d.Id == uio));
        VmbusNetDevice u = Assert.Single(devices, d => d.Id == unbound);
        Assert.Equal(VmbusNetDevice.Unbound, u.Driver);
        Assert.False(u.IsBound);
    }

    [Fact]
    public void Address_formatting()
    {
        Assert.Equal("192.0.2.1/24", NetvscDiscovery.FormatAddress(V4(1, 192, 0, 2, 1, 24)));
        byte[] v6 = new byte[16];
        v6[0] = 0xfe;
        v6[1] = 0x80;
        v6[15] = 1;
        Assert.Equal("fe80::1/64", NetvscDiscovery.FormatAddress(new AddressInfo(1, 10, v6, 64)));
    }
}
