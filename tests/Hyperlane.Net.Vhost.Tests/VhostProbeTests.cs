using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>net_vhost's devargs: what probe accepts, and a clear refusal naming the key for everything else.</summary>
public sealed class VhostProbeTests
{
    [Fact]
    public void A_probed_port_serves_its_socket_with_the_devargs_it_was_given()
    {
        using var lab = new VhostLab();

        var port = lab.ProbeVhost("queues=3,tso=1,linear-buffer=1");

        Assert.Equal("net_vhost0", port.Name);
        Assert.Equal(VhostDriver.DriverName, port.DriverName);
        Assert.Equal(3, port.Backend.Options.QueuePairs);
        Assert.True(port.Backend.Options.Tso);
        Assert.False(port.Backend.Options.Client);
        Assert.True(port.LinearBuffer);
        Assert.Equal(3, port.Info.MaxRxQueues);
        Assert.Equal(3, port.Info.MaxTxQueues);
        Assert.True(port.Info.SupportsLinkStatusEvents);
        Assert.True(File.Exists(lab.Socket), "server mode listens from probe on");

        Assert.True(lab.Runtime.Vdev.Remove("net_vhost0"));
        Assert.False(File.Exists(lab.Socket), "the socket file is removed when the port is closed");
    }

    [Fact]
    public void The_eth_vhost_alias_reaches_net_vhost()
    {
        using var lab = new VhostLab();

        var device = lab.Runtime.Vdev.Probe($"eth_vhost0,iface={lab.Socket}");

        Assert.IsType<VhostDriver>(device.Driver);
        Assert.IsType<VhostEthDev>(Assert.Single(device.Ports));
    }

    [Fact]
    public void Iface_is_required()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe("net_vhost0,queues=1"));

        Assert.Equal("net_vhost0: iface=<socket path> is required (the vhost-user socket to serve)", ex.Message);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_valid_ones()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={lab.Socket},queue=2"));

        Assert.Contains("unknown key 'queue'", ex.Message, StringComparison.Ordinal);
        foreach (string key in new[] { "iface", "queues", "client", "tso", "linear-buffer" })
        {
            Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        }

        AssertNothingLeft(lab);
    }

    [Theory]
    [InlineData("iommu-support", "vIOMMU")]
    [InlineData("postcopy-support", "postcopy")]
    [InlineData("ext-buffer", "mbufs always hold their own data")]
    [InlineData("legacy-ol-flags", "compliant form")]
    [InlineData("dequeue-zero-copy", "removed from DPDK")]
    public void Each_unsupported_dpdk_key_is_refused_with_the_reason(string key, string reason)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={lab.Socket},{key}=1"));

        Assert.Contains($"key '{key}' of net_vhost is not supported by Hyperlane", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("net_vhost0: ", ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
        Assert.False(File.Exists(lab.Socket));
    }

    [Fact]
    public void Extbuf_is_not_a_dpdk_key_and_is_unknown()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={lab.Socket},extbuf=1"));

        Assert.Contains("unknown key 'extbuf'", ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Theory]
    [InlineData("queues=0", "key 'queues' = '0' is out of range 1..128")]
    [InlineData("queues=129", "key 'queues' = '129' is out of range 1..128")]
    [InlineData("client=2", "key 'client'")]
    public void Out_of_range_values_are_refused_naming_the_key(string args, string message)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={lab.Socket},{args}"));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void A_socket_path_longer_than_sun_path_is_refused()
    {
        using var lab = new VhostLab();
        string path = Path.Combine(lab.Dir.Path, new string('s', 120));

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={path}"));

        Assert.Contains("key 'iface'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("longer than 107", ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void An_iface_that_cannot_be_listened_on_fails_probe_and_leaves_nothing_behind()
    {
        using var lab = new VhostLab();
        string path = Path.Combine(lab.Dir.Path, "no-such-dir", "vhost.sock");
        int fdsBefore = OpenFds();
        int threadsBefore = VhostThreads();

        for (int i = 0; i < 5; i++)
        {
            var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe($"net_vhost0,iface={path}"));
            Assert.StartsWith($"net_vhost0: iface '{path}': ", ex.Message, StringComparison.Ordinal);
            Assert.Contains("bind", ex.Message, StringComparison.Ordinal);
            AssertNothingLeft(lab);
        }

        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
        Assert.Equal(threadsBefore, VhostThreads());
        int leaked = OpenFds() - fdsBefore;
        Assert.True(leaked < 5, $"{leaked} more fds open after 5 failed probes (each would leak its epoll and eventfd)");

        // The name was not kept: the same device probes on a good path.
        var port = lab.ProbeVhost();
        Assert.Equal("net_vhost0", port.Name);
    }

    [Fact]
    public void A_second_port_on_a_socket_in_use_is_refused()
    {
        using var lab = new VhostLab();
        lab.ProbeVhost();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe($"net_vhost1,iface={lab.Socket}"));

        Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
        Assert.Single(lab.Runtime.Ports.All);
        Assert.True(File.Exists(lab.Socket), "the first port's socket is untouched");
    }

    [Fact]
    public void Client_mode_probes_without_a_listener_and_keeps_trying()
    {
        using var lab = new VhostLab();

        var port = lab.ProbeVhost("client=1");
        port.Configure(1, 1);

        Assert.True(port.Backend.Options.Client);
        Assert.False(File.Exists(lab.Socket), "a client does not create the socket");
        Hyperlane.Testing.Wait.Until(
            () => port.GetXStats().Single(x => x.Name == "vhost_connect_attempts_failed").Value >= 1,
            () => "no connection attempt counted",
            VhostLab.Timeout);
        Assert.Equal(EthDevState.Configured, port.State);
    }

    private static void AssertNothingLeft(VhostLab lab)
    {
        Assert.Empty(lab.Runtime.Vdev.Devices);
        Assert.Empty(lab.Runtime.Ports.All);
    }

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Threads of this process named like the backend's session thread ("vhost-user").</summary>
    private static int VhostThreads()
    {
        int n = 0;
        foreach (string dir in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "vhost-user")
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }

        return n;
    }
}
