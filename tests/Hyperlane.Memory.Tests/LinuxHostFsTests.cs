using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// <see cref="HostFs"/>: the one root every sysfs/procfs/dev path goes through. Changes the process-wide
/// root, so it runs in the serial collection and always puts the root back.
/// </summary>
[Collection(MemorySerialCollection.Name)]
public sealed class LinuxHostFsTests : IDisposable
{
    private readonly string previousRoot = HostFs.Root;
    private readonly string dir = Directory.CreateTempSubdirectory("hyperlane-hostfs-").FullName;

    public void Dispose()
    {
        HostFs.Root = previousRoot;
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Default_root_maps_paths_to_themselves()
    {
        try
        {
            HostFs.Root = "/";
            Assert.Equal("/", HostFs.Root);
            Assert.Equal("/sys/class/net", HostFs.Path("/sys/class/net"));
            Assert.Equal("/", HostFs.Path("/"));
            Assert.NotNull(HostFs.ReadText("/proc/self/stat"));
        }
        finally
        {
            HostFs.Root = "/";
        }
    }

    [Fact]
    public void Temp_root_prefixes_absolute_paths()
    {
        try
        {
            HostFs.Root = dir + "//";
            Assert.Equal(dir, HostFs.Root);
            Assert.Equal(dir + "/sys/bus/vmbus/devices", HostFs.Path("/sys/bus/vmbus/devices"));
            Assert.Equal(dir + "/dev/vfio/vfio", HostFs.Path("/dev/vfio/vfio"));

            HostFs.Root = string.Empty;
            Assert.Equal("/", HostFs.Root);
        }
        finally
        {
            HostFs.Root = "/";
        }
    }

    [Theory]
    [InlineData("sys/class/net")]
    [InlineData("./sys")]
    [InlineData("")]
    public void Relative_or_empty_paths_are_rejected(string path)
    {
        Assert.ThrowsAny<ArgumentException>(() => HostFs.Path(path));
    }

    [Fact]
    public void ReadText_and_ReadInt64_read_files_under_the_root()
    {
        Directory.CreateDirectory(dir + "/sys/class/net/eth0");
        File.WriteAllText(dir + "/sys/class/net/eth0/mtu", "1500\n");
        File.WriteAllText(dir + "/sys/class/net/eth0/address", "  00:15:5d:01:02:03 \n");
        File.WriteAllText(dir + "/sys/class/net/eth0/negative", "-3\n");
        File.WriteAllText(dir + "/sys/class/net/eth0/word", "up\n");
        File.WriteAllText(dir + "/sys/class/net/eth0/big", "9223372036854775807");
        File.WriteAllText(dir + "/sys/class/net/eth0/huge", "9223372036854775808");
        File.WriteAllText(dir + "/sys/class/net/eth0/empty", string.Empty);
        try
        {
            HostFs.Root = dir;
            Assert.Equal("1500", HostFs.ReadText("/sys/class/net/eth0/mtu"));
            Assert.Equal(1500, HostFs.ReadInt64("/sys/class/net/eth0/mtu"));
            Assert.Equal("00:15:5d:01:02:03", HostFs.ReadText("/sys/class/net/eth0/address"));
            Assert.Equal(long.MaxValue, HostFs.ReadInt64("/sys/class/net/eth0/big"));
            Assert.Equal(string.Empty, HostFs.ReadText("/sys/class/net/eth0/empty"));

            Assert.Null(HostFs.ReadInt64("/sys/class/net/eth0/negative"));
            Assert.Null(HostFs.ReadInt64("/sys/class/net/eth0/word"));
            Assert.Null(HostFs.ReadInt64("/sys/class/net/eth0/huge"));
            Assert.Null(HostFs.ReadInt64("/sys/class/net/eth0/empty"));
            Assert.Null(HostFs.ReadText("/sys/class/net/eth0/missing"));
            Assert.Null(HostFs.ReadInt64("/sys/class/net/eth0/missing"));
            Assert.Null(HostFs.ReadText("/sys/class/net/eth1/mtu"));
            Assert.Null(HostFs.ReadText("/sys/class/net/eth0")); // a directory, not an attribute

            // The real file of the same name is not consulted.
            Assert.Null(HostFs.ReadText("/proc/self/stat"));
        }
        finally
        {
            HostFs.Root = "/";
        }
    }
}
