using Hyperlane.Core.Devices;
using Hyperlane.Linux.Netlink;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// <see cref="NetvscTargetSelector"/> over made-up kernel links and addresses (as rtnetlink would list them) and
/// a built sysfs tree: which netdevs each combination of iface=, mac= and force= selects, and the one
/// <see cref="DevargsException"/> (key and message) each mistake gives. No root needed.
/// </summary>
public sealed class SelectorTests : IDisposable
{
    private const string Device = "net_vdev_netvsc0";

    // The host: an unmarked eth0 (management-like, but not NetVSC in sysfs), two unrouted NetVSC netdevs,
    // a routed one, nv1's PCI VF, and assorted non-NetVSC interfaces.
    private static readonly MacAddress MacEth0 = MacAddress.Parse("00:0d:3a:00:00:e0");
    private static readonly MacAddress MacNv1 = MacAddress.Parse("00:0d:3a:00:00:01");
    private static readonly MacAddress MacNv2 = MacAddress.Parse("00:0d:3a:00:00:02");
    private static readonly MacAddress MacRouted = MacAddress.Parse("00:0d:3a:00:00:03");
    private static readonly MacAddress MacOther = MacAddress.Parse("00:0d:3a:00:00:05");
    private static readonly MacAddress MacPlain = MacAddress.Parse("00:0d:3a:00:00:06");
    private static readonly MacAddress MacTwin = MacAddress.Parse("00:0d:3a:00:00:07");
    private static readonly MacAddress MacOtherVf = MacAddress.Parse("00:0d:3a:00:00:09");
    private static readonly MacAddress MacNobody = MacAddress.Parse("00:0d:3a:00:00:99");

    private readonly FakeHostTree tree = new();
    private readonly NetvscDiscovery discovery;
    private readonly LinkInfo[] links;
    private readonly AddressInfo[] addresses;

    public SelectorTests()
    {
        tree.MarkNetvsc("nv1");
        tree.MarkNetvsc("nv2");
        tree.MarkNetvsc("nvrouted");
        tree.MarkNetvsc("nvib");                       // NetVSC and Ethernet in sysfs, but the kernel gives a 20-byte address
        tree.MarkPciVf("vf1", "0002:00:02.0", "mlx5_core");
        tree.MarkPciVf("vftwin", "0004:00:02.0", "mlx5_core");
        tree.MarkPciVf("vfother", "0003:00:02.0", "mlx5_core");
        tree.AddVirtual("other");
        tree.AddVirtual("plain");
        tree.AddVirtual("twin");
        tree.AddVirtual("tun0");
        tree.AddVirtual("ib0");
        discovery = new NetvscDiscovery(tree.Root);
        links =
        [
            Link(1, "lo", new byte[6]),
            Link(2, "eth0", MacEth0),
            Link(3, "nv1", MacNv1),
            Link(4, "nv2", MacNv2),
            Link(5, "nvrouted", MacRouted),
            Link(6, "vf1", MacNv1),
            Link(7, "other", MacOther),
            Link(8, "plain", MacPlain),
            Link(9, "vftwin", MacTwin),       // a PCI netdev with twin's MAC, lower ifindex than twin
            Link(10, "twin", MacTwin),
            Link(11, "vfother", MacOtherVf),  // a PCI netdev with a MAC no NetVSC netdev has
            Link(12, "tun0", []),
            Link(13, "ib0", new byte[20]),
            Link(14, "nvib", new byte[20]),
        ];
        addresses =
        [
            V4(1, 127, 0, 0, 1, 8),
            V4(2, 10, 0, 0, 4, 24),
            V4(5, 192, 0, 2, 1, 24),
            V4(8, 198, 51, 100, 7, 24),
        ];
    }

    public void Dispose() => tree.Dispose();

    [Fact]
    public void Auto_mode_selects_exactly_the_unrouted_netvsc_netdevs()
    {
        var r = Select([], []);

        Assert.Equal(["nv1", "nv2"], r.Targets.Select(t => t.Name));
        Assert.Equal([new NetvscTarget("nv1", 3, MacNv1, true, false), new NetvscTarget("nv2", 4, MacNv2, true, false)], r.Targets);
        Assert.DoesNotContain(r.Targets, t => t.Name is "eth0" or "nvrouted" or "vf1" or "other" or "vfother" or "lo");
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Auto_mode_reports_the_routed_netvsc_netdev_as_skipped_with_its_addresses()
    {
        var r = Select([], []);

        SkippedInterface s = Assert.Single(r.Skipped);
        Assert.Equal("nvrouted", s.Name);
        Assert.Equal(5, s.IfIndex);
        Assert.Equal(SkipKind.Routed, s.Kind);
        Assert.Equal("nvrouted has addresses 192.0.2.1/24: skipped so the management NIC is not taken; name it with iface= to use it", s.Reason);
    }

    [Fact]
    public void Auto_mode_never_selects_an_unmarked_eth0_even_when_it_is_the_only_unrouted_ethernet_netdev()
    {
        using var bare = new FakeHostTree();
        bare.AddVirtual("eth1");
        LinkInfo[] l = [Link(1, "lo", new byte[6]), Link(2, "eth0", MacEth0), Link(3, "eth1", MacNv1)];
        var d = new NetvscDiscovery(bare.Root);
        var warnings = new List<string>();
        var skipped = new List<SkippedInterface>();

        var targets = NetvscTargetSelector.Select(Device, [], [], false, d.Scan(l, []), l, [], d, warnings, skipped);

        Assert.Empty(targets);
        Assert.Empty(skipped);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Auto_mode_selects_eth0_when_sysfs_marks_it_netvsc()
    {
        using var marked = new FakeHostTree();
        marked.MarkNetvsc("eth0");
        LinkInfo[] l = [Link(1, "lo", new byte[6]), Link(2, "eth0", MacEth0)];
        var d = new NetvscDiscovery(marked.Root);

        var targets = NetvscTargetSelector.Select(Device, [], [], false, d.Scan(l, []), l, [], d, [], []);

        Assert.Equal("eth0", Assert.Single(targets).Name);
    }

    [Fact]
    public void Iface_selects_that_netvsc_netdev_only()
    {
        var r = Select(["nv2"], []);

        Assert.Equal(new NetvscTarget("nv2", 4, MacNv2, true, false), Assert.Single(r.Targets));
        Assert.Empty(r.Warnings);
        Assert.Empty(r.Skipped);
    }

    [Fact]
    public void Two_ifaces_select_both_in_the_order_given()
    {
        var r = Select(["nv2", "nv1"], []);

        Assert.Equal(["nv2", "nv1"], r.Targets.Select(t => t.Name));
        Assert.All(r.Targets, t => Assert.True(t.IsNetvsc));
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Mac_selects_the_netvsc_netdev_with_that_mac_not_its_vf()
    {
        var r = Select([], [MacNv1]);

        Assert.Equal(new NetvscTarget("nv1", 3, MacNv1, true, false), Assert.Single(r.Targets));
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Iface_and_mac_naming_the_same_netdev_select_it_once()
    {
        var r = Select(["nv2"], [MacNv2]);

        Assert.Equal("nv2", Assert.Single(r.Targets).Name);
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Iface_and_mac_naming_different_netdevs_is_one_error_naming_both()
    {
        var ex = SelectFails(["nv1"], [MacNv2]);

        Assert.Equal("mac", ex.Key);
        Assert.Equal(Device, ex.DeviceName);
        Assert.Contains("iface=nv1", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"mac={MacNv2}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nv2", ex.Message.Replace("iface=nv1", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("name different devices", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Iface_that_does_not_exist_is_an_error_naming_it()
    {
        var ex = SelectFails(["nosuch0"], []);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("iface=nosuch0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no such interface", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Iface_that_is_not_netvsc_without_force_is_an_error_suggesting_force()
    {
        var ex = SelectFails(["plain"], []);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("iface=plain", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a NetVSC netdev", ex.Message, StringComparison.Ordinal);
        Assert.Contains("force=1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Iface_that_is_not_netvsc_with_force_is_used_with_a_warning()
    {
        var r = Select(["other"], [], force: true);

        Assert.Equal(new NetvscTarget("other", 7, MacOther, false, false), Assert.Single(r.Targets));
        string w = Assert.Single(r.Warnings);
        Assert.StartsWith("other: not a NetVSC netdev", w, StringComparison.Ordinal);
        Assert.Contains("force=1", w, StringComparison.Ordinal);
        Assert.Empty(r.Skipped);
    }

    [Fact]
    public void Iface_unmarked_eth0_with_force_is_used()
    {
        var r = Select(["eth0"], [], force: true);

        NetvscTarget t = Assert.Single(r.Targets);
        Assert.Equal(("eth0", 2, MacEth0, false, true), (t.Name, t.IfIndex, t.Mac, t.IsNetvsc, t.IsRouted));
        Assert.Contains(r.Warnings, w => w.Contains("force=1", StringComparison.Ordinal));
        Assert.Contains(r.Warnings, w => w.Contains("10.0.0.4/24", StringComparison.Ordinal));
    }

    [Fact]
    public void Mac_of_no_interface_is_an_error()
    {
        var ex = SelectFails([], [MacNobody]);

        Assert.Equal("mac", ex.Key);
        Assert.Contains($"mac={MacNobody}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no interface has this MAC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mac_of_no_interface_is_an_error_even_with_force()
    {
        var ex = SelectFails([], [MacNobody], force: true);

        Assert.Equal("mac", ex.Key);
        Assert.Contains("no interface has this MAC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mac_of_a_non_netvsc_interface_with_force_selects_it_not_the_pci_vf_sharing_the_mac()
    {
        var r = Select([], [MacTwin], force: true);

        Assert.Equal(new NetvscTarget("twin", 10, MacTwin, false, false), Assert.Single(r.Targets));
        Assert.StartsWith("twin: not a NetVSC netdev", Assert.Single(r.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Mac_of_a_non_netvsc_interface_without_force_is_an_error_suggesting_force_for_the_interface_force_would_use()
    {
        var ex = SelectFails([], [MacTwin]);

        Assert.Equal("mac", ex.Key);
        Assert.Contains($"mac={MacTwin}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no NetVSC netdev has this MAC", ex.Message, StringComparison.Ordinal);

        // force=1 would take twin (the PCI netdev with the MAC is some NetVSC netdev's VF), so that is what to suggest.
        Assert.True(ex.Message.Contains("add force=1 to use twin anyway", StringComparison.Ordinal), $"force=1 would use twin, but the message says: {ex.Message}");
    }

    [Fact]
    public void Mac_of_a_pci_netdev_only_with_force_selects_that_netdev()
    {
        var r = Select([], [MacOtherVf], force: true);

        Assert.Equal("vfother", Assert.Single(r.Targets).Name);
        Assert.False(r.Targets[0].IsNetvsc);
    }

    [Fact]
    public void Iface_given_twice_is_an_error()
    {
        var ex = SelectFails(["nv1", "nv1"], []);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("iface=nv1 is given twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mac_given_twice_is_an_error()
    {
        var ex = SelectFails([], [MacNv1, MacNv1]);

        Assert.Equal("mac", ex.Key);
        Assert.Contains($"mac={MacNv1} is given twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Named_routed_netvsc_netdev_is_used_with_a_warning_naming_its_addresses()
    {
        var r = Select(["nvrouted"], []);

        Assert.Equal(new NetvscTarget("nvrouted", 5, MacRouted, true, true), Assert.Single(r.Targets));
        string w = Assert.Single(r.Warnings);
        Assert.StartsWith("nvrouted has addresses 192.0.2.1/24", w, StringComparison.Ordinal);
        Assert.Contains("because it was named", w, StringComparison.Ordinal);
        Assert.Empty(r.Skipped);
    }

    [Fact]
    public void Routed_netvsc_netdev_named_by_mac_is_used_with_a_warning_naming_its_addresses()
    {
        var r = Select([], [MacRouted]);

        Assert.True(Assert.Single(r.Targets).IsRouted);
        Assert.Contains("192.0.2.1/24", Assert.Single(r.Warnings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tun0", 0)]
    [InlineData("ib0", 20)]
    public void Non_ethernet_interface_with_force_is_an_error(string name, int bytes)
    {
        var ex = SelectFails([name], [], force: true);

        Assert.Equal("iface", ex.Key);
        Assert.Contains($"iface={name}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no Ethernet MAC", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{bytes}-byte hardware address", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Netvsc_marked_interface_with_a_non_ethernet_address_is_refused_for_its_address_not_for_being_non_netvsc()
    {
        // Without force: sysfs says NetVSC, so "not a NetVSC netdev; add force=1" would be wrong (force=1 cannot help:
        // with it the same netdev is refused for its 20-byte address).
        var ex = SelectFails(["nvib"], []);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("iface=nvib", ex.Message, StringComparison.Ordinal);
        Assert.True(
            ex.Message.Contains("20-byte", StringComparison.Ordinal) || ex.Message.Contains("20 bytes", StringComparison.Ordinal),
            $"the message does not give the reason (a 20-byte hardware address): {ex.Message}");
        Assert.False(ex.Message.Contains("not a NetVSC netdev", StringComparison.Ordinal), $"sysfs says NetVSC, the message says not: {ex.Message}");
        Assert.False(ex.Message.Contains("add force=1", StringComparison.Ordinal), $"suggests force=1, which cannot help: {ex.Message}");
    }

    [Fact]
    public void Malformed_interface_name_is_an_error()
    {
        var ex = SelectFails(["a/b"], []);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("is not an interface name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_ifaces_and_a_mac_naming_only_one_of_them_is_an_error_on_iface()
    {
        var ex = SelectFails(["nv1", "nv2"], [MacNv1]);

        Assert.Equal("iface", ex.Key);
        Assert.Contains("iface=nv2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("name different devices", ex.Message, StringComparison.Ordinal);
    }

    private static LinkInfo Link(int index, string name, byte[] mac) => new(index, name, mac, 1500, LinkFlags.Up, null, null, 6);

    private static LinkInfo Link(int index, string name, MacAddress mac)
    {
        byte[] octets = new byte[MacAddress.Length];
        mac.CopyTo(octets);
        return Link(index, name, octets);
    }

    private static AddressInfo V4(int index, byte a, byte b, byte c, byte d, int prefix) => new(index, 2, [a, b, c, d], prefix);

    private (IReadOnlyList<NetvscTarget> Targets, List<string> Warnings, List<SkippedInterface> Skipped) Select(string[] ifaces, MacAddress[] macs, bool force = false)
    {
        var warnings = new List<string>();
        var skipped = new List<SkippedInterface>();
        NetvscScan scan = discovery.Scan(links, addresses);
        var targets = NetvscTargetSelector.Select(Device, ifaces, macs, force, scan, links, addresses, discovery, warnings, skipped);
        return (targets, warnings, skipped);
    }

    private DevargsException SelectFails(string[] ifaces, MacAddress[] macs, bool force = false) =>
        Assert.Throws<DevargsException>(() => Select(ifaces, macs, force));
}
