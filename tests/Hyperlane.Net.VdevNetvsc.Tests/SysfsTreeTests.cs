using Hyperlane.Linux;
using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>The rooted reader: every failure is a value with a reason, never an exception.</summary>
public class SysfsTreeTests
{
    [Fact]
    public void Default_root_is_hostfs_root_and_paths_map_under_a_given_root()
    {
        Assert.Equal(HostFs.Root, new SysfsTree().Root);
        Assert.Equal("/sys/class/net", new SysfsTree("/").Path("/sys/class/net"));
        Assert.Equal("/tmp/x/sys/class/net", new SysfsTree("/tmp/x/").Path("/sys/class/net"));
        Assert.Throws<ArgumentException>(() => new SysfsTree("/tmp/x").Path("sys"));
    }

    [Fact]
    public void Attribute_is_trimmed_or_reports_why_not()
    {
        using var tree = new FakeHostTree();
        var sysfs = new SysfsTree(tree.Root);
        tree.Write("/a/value", "  1\n");
        Assert.Equal("1", sysfs.ReadAttribute("/a/value").Value);

        SysfsValue missing = sysfs.ReadAttribute("/a/none");
        Assert.False(missing.IsRead);
        Assert.True(missing.IsMissing);
        Assert.Contains("/a/none does not exist", missing.Problem, StringComparison.Ordinal);

        SysfsValue dir = sysfs.ReadAttribute("/a");
        Assert.False(dir.IsRead);
        Assert.False(dir.IsMissing);
        Assert.Contains("is a directory", dir.Problem, StringComparison.Ordinal);

        tree.Write("/a/big", new string('x', SysfsTree.MaxAttributeBytes + 1));
        SysfsValue big = sysfs.ReadAttribute("/a/big");
        Assert.False(big.IsRead);
        Assert.Contains("larger than 4096 bytes", big.Problem, StringComparison.Ordinal);

        tree.Write("/a/page", new string('x', SysfsTree.MaxAttributeBytes));
        Assert.Equal(SysfsTree.MaxAttributeBytes, sysfs.ReadAttribute("/a/page").Value!.Length);
    }

    [Fact]
    public void Links_give_basename_resolution_and_reasons()
    {
        using var tree = new FakeHostTree();
        var sysfs = new SysfsTree(tree.Root);
        tree.Mkdir("/sys/bus/pci/drivers/mlx5_core");
        tree.Link("/dev0/driver", "/sys/bus/pci/drivers/mlx5_core");
        SysfsLink good = sysfs.ReadLink("/dev0/driver");
        Assert.Equal("mlx5_core", good.Name);
        Assert.True(good.Resolves);
        Assert.Null(good.Problem);

        tree.RawLink("/dev0/broken", "../../bus/vmbus/drivers/hv_netvsc");
        SysfsLink broken = sysfs.ReadLink("/dev0/broken");
        Assert.Equal("hv_netvsc", broken.Name);
        Assert.False(broken.Resolves);
        Assert.Contains("does not resolve", broken.Problem, StringComparison.Ordinal);

        SysfsLink missing = sysfs.ReadLink("/dev0/none");
        Assert.True(missing.IsMissing);
        Assert.Null(missing.Name);

        tree.Write("/dev0/file", "x");
        SysfsLink notLink = sysfs.ReadLink("/dev0/file");
        Assert.False(notLink.IsMissing);
        Assert.Null(notLink.Name);
        Assert.Contains("not a symbolic link", notLink.Problem, StringComparison.Ordinal);

        tree.RawLink("/dev0/dots", "..");
        Assert.Null(sysfs.ReadLink("/dev0/dots").Name);
    }

    [Fact]
    public void Listing_is_sorted_and_empty_when_missing()
    {
        using var tree = new FakeHostTree();
        var sysfs = new SysfsTree(tree.Root);
        tree.Write("/d/b", "1");
        tree.Write("/d/a", "1");
        tree.Mkdir("/d/c");
        Assert.Equal(["a", "b", "c"], sysfs.List("/d"));
        Assert.Empty(sysfs.List("/nothing"));
        Assert.False(sysfs.TryList("/nothing", out _, out string? problem));
        Assert.Contains("does not exist", problem, StringComparison.Ordinal);
    }
}
