using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>What sysfs says about one netdev, from a built tree: no root, no netlink.</summary>
public class InspectTests
{
    [Fact]
    public void Netvsc_netdev_with_hv_netvsc()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1");
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Netvsc, info.Kind);
        Assert.Equal("hv_netvsc", info.Driver);
        Assert.Null(info.DriverProblem);
        Assert.Equal(NetvscDiscovery.NetvscClassId, info.ClassId);
        Assert.Equal(1, info.ArphrdType);
    }

    [Fact]
    public void Unbound_and_broken_driver_links_leave_the_driver_unknown_with_a_reason()
    {
        using var tree = new FakeHostTree();
        string id = tree.MarkNetvsc("eth1", driver: null);
        tree.MarkNetvsc("eth2", driver: null);
        var discovery = new NetvscDiscovery(tree.Root);
        NetDeviceInfo unbound = discovery.Inspect("eth1");
        Assert.Equal(NetDeviceKind.Netvsc, unbound.Kind);
        Assert.Null(unbound.Driver);
        Assert.Contains("unbound", unbound.DriverProblem, StringComparison.Ordinal);
        Assert.StartsWith("unknown (", unbound.DriverText, StringComparison.Ordinal);

        tree.RawLink($"{FakeHostTree.VmbusDevicesDir}/{id}/driver", "../../../../../bus/vmbus/drivers/gone");
        NetDeviceInfo broken = discovery.Inspect("eth1");
        Assert.Equal(NetDeviceKind.Netvsc, broken.Kind);
        Assert.Null(broken.Driver);
        Assert.Contains("does not resolve", broken.DriverProblem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage", "is not a GUID")]
    [InlineData("", "is not a GUID")]
    [InlineData("{f8615163-df3e-46c5-913f-f2d2f965ed0e", "is not a GUID")]
    [InlineData("{F8615163-DF3E-46C5-913F-F2D2F965ED0E}", "differs from")]
    public void Bad_class_id_is_unusable(string classId, string reason)
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1", classId: classId);
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Unusable, info.Kind);
        Assert.Contains(reason, info.Reason, StringComparison.Ordinal);
        Assert.StartsWith("eth1: ", info.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_class_id_is_reported_printably()
    {
        using var tree = new FakeHostTree();
        string id = tree.MarkNetvsc("eth1");
        File.WriteAllBytes(tree.P($"{FakeHostTree.VmbusDevicesDir}/{id}/class_id"), [0x7B, 0x00, 0xFF, 0x0A, 0x1B, 0x5B, 0x32, 0x4A]);
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Unusable, info.Kind);
        Assert.DoesNotContain(info.Reason, char.IsControl);
    }

    [Fact]
    public void Oversized_or_directory_class_id_is_unusable()
    {
        using var tree = new FakeHostTree();
        string id1 = tree.MarkNetvsc("eth1");
        string id2 = tree.MarkNetvsc("eth2");
        File.WriteAllText(tree.P($"{FakeHostTree.VmbusDevicesDir}/{id1}/class_id"), new string('{', 10_000));
        File.Delete(tree.P($"{FakeHostTree.VmbusDevicesDir}/{id2}/class_id"));
        tree.Mkdir($"{FakeHostTree.VmbusDevicesDir}/{id2}/class_id");
        var discovery = new NetvscDiscovery(tree.Root);
        Assert.Contains("larger than", discovery.Inspect("eth1").Reason, StringComparison.Ordinal);
        Assert.Equal(NetDeviceKind.Unusable, discovery.Inspect("eth1").Kind);
        Assert.Contains("is a directory", discovery.Inspect("eth2").Reason, StringComparison.Ordinal);
        Assert.Equal(NetDeviceKind.Unusable, discovery.Inspect("eth2").Kind);
    }

    [Fact]
    public void Other_vmbus_class_is_not_netvsc()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1", classId: "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}");
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Other, info.Kind);
        Assert.Contains("not NetVSC", info.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ether", "is not a number")]
    [InlineData("1x", "is not a number")]
    [InlineData("-1", "is not a number")]
    [InlineData("772", "type 772 is not Ethernet")]
    [InlineData("32", "type 32 is not Ethernet")]
    public void Netvsc_class_with_bad_type_is_unusable(string type, string reason)
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1", type: type);
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Unusable, info.Kind);
        Assert.Contains(reason, info.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Netvsc_class_without_type_is_unusable()
    {
        using var tree = new FakeHostTree();
        tree.MarkNetvsc("eth1");
        File.Delete(tree.P("/sys/class/net/eth1/type"));
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("eth1");
        Assert.Equal(NetDeviceKind.Unusable, info.Kind);
        Assert.Contains("type does not exist", info.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Pci_vf_gives_address_and_driver()
    {
        using var tree = new FakeHostTree();
        tree.MarkPciVf("enP2p0s2", "0002:00:02.0", "mlx5_core");
        tree.MarkPciVf("enP3p0s2", "0003:00:02.0", driver: null);
        var discovery = new NetvscDiscovery(tree.Root);
        NetDeviceInfo vf = discovery.Inspect("enP2p0s2");
        Assert.Equal(NetDeviceKind.PciDevice, vf.Kind);
        Assert.Equal("0002:00:02.0", vf.PciAddress);
        Assert.Equal("mlx5_core", vf.Driver);
        NetDeviceInfo unbound = discovery.Inspect("enP3p0s2");
        Assert.Equal(NetDeviceKind.PciDevice, unbound.Kind);
        Assert.Null(unbound.Driver);
    }

    [Fact]
    public void Pci_subsystem_with_a_device_link_that_is_no_pci_address_is_unusable()
    {
        using var tree = new FakeHostTree();
        tree.Write("/sys/devices/weird/dev/x", "1");
        tree.Link("/sys/devices/weird/dev/subsystem", "/sys/bus/pci");
        tree.Mkdir("/sys/bus/pci");
        tree.Write("/sys/devices/weird/dev/net/v1/type", "1");
        tree.Link("/sys/devices/weird/dev/net/v1/device", "/sys/devices/weird/dev");
        tree.Link("/sys/class/net/v1", "/sys/devices/weird/dev/net/v1");
        NetDeviceInfo info = new NetvscDiscovery(tree.Root).Inspect("v1");
        Assert.Equal(NetDeviceKind.Unusable, info.Kind);
        Assert.Contains("does not end in a PCI address", info.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Virtual_absent_broken_and_bad_names()
    {
        using var tree = new FakeHostTree();
        tree.AddVirtual("veth0");
        tree.AddVirtual("vbroken");
        tree.RawLink("/sys/devices/virtual/net/vbroken/device", "../../../nowhere");
        var discovery = new NetvscDiscovery(tree.Root);
        Assert.Equal(NetDeviceKind.Other, discovery.Inspect("veth0").Kind);
        Assert.Contains("virtual interface", discovery.Inspect("veth0").Reason, StringComparison.Ordinal);
        Assert.Equal(NetDeviceKind.Absent, discovery.Inspect("eth9").Kind);
        NetDeviceInfo broken = discovery.Inspect("vbroken");
        Assert.Equal(NetDeviceKind.Unusable, broken.Kind);
        Assert.Contains("does not resolve", broken.Reason, StringComparison.Ordinal);
        Assert.Equal(NetDeviceKind.Unusable, discovery.Inspect("../etc").Kind);
        Assert.Equal(NetDeviceKind.Unusable, discovery.Inspect(string.Empty).Kind);
    }
}
