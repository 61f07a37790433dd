using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Net.VirtioUser;
using Hyperlane.Packets;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>virtio_user's devargs and queue setup: what probe accepts, and a clear refusal naming the key for everything else.</summary>
public sealed class VirtioUserProbeTests
{
    [Fact]
    public void A_probed_port_keeps_its_devargs_and_connects_only_when_started()
    {
        using var lab = new VhostLab();

        var port = lab.ProbeVirtio("queues=2,queue_size=512,mrg_rxbuf=0,in_order=0,packed_vq=1,mac=02:11:22:33:44:55,speed=25000,connect-timeout=3");

        Assert.Equal("virtio_user0", port.Name);
        Assert.Equal(VirtioUserDriver.DriverName, port.DriverName);
        Assert.Equal(2, port.Options.QueuePairs);
        Assert.Equal(512, port.Options.QueueSize);
        Assert.False(port.Options.MergeableRxBuffers);
        Assert.False(port.Options.InOrder);
        Assert.True(port.Options.PackedRing);
        Assert.False(port.Options.Server);
        Assert.Equal(TimeSpan.FromSeconds(3), port.Options.ConnectTimeout);
        Assert.Equal(MacAddress.Parse("02:11:22:33:44:55"), port.MacAddress);
        Assert.Equal([25000u], port.Info.SpeedCapabilities);
        Assert.True(port.Info.RequiresShareableMempool);
        Assert.Null(port.Frontend);
        Assert.False(port.GetLink().IsUp);
    }

    [Fact]
    public void Without_mac_a_random_locally_administered_unicast_address_is_used()
    {
        using var lab = new VhostLab();

        var a = lab.ProbeVirtio(name: "virtio_user0");
        var b = lab.ProbeVirtio(name: "virtio_user1");

        Assert.True(a.MacAddress.IsUnicast && a.MacAddress.IsLocallyAdministered, a.MacAddress.ToString());
        Assert.True(b.MacAddress.IsUnicast && b.MacAddress.IsLocallyAdministered, b.MacAddress.ToString());
        Assert.NotEqual(a.MacAddress, b.MacAddress);
    }

    [Fact]
    public void Path_is_required()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe("virtio_user0,queues=1"));

        Assert.Equal("virtio_user0: path=<socket path> is required (the vhost-user backend's socket)", ex.Message);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_valid_ones()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},queue-size=64"));

        Assert.Contains("unknown key 'queue-size'", ex.Message, StringComparison.Ordinal);
        foreach (string key in new[] { "path", "queues", "queue_size", "mrg_rxbuf", "in_order", "packed_vq", "server", "mac", "speed", "connect-timeout" })
        {
            Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        }

        AssertNothingLeft(lab);
    }

    [Theory]
    [InlineData("cq", "control virtqueue")]
    [InlineData("iface", "vhost-kernel")]
    [InlineData("vectorized", "no vector Rx/Tx paths")]
    public void Each_unsupported_dpdk_key_is_refused_with_the_reason(string key, string reason)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},{key}=1"));

        Assert.StartsWith("virtio_user0: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"key '{key}' of virtio_user is not supported by Hyperlane", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    /// <summary>DPDK's virtio_user names the vhost-kernel tap "iface" (VIRTIO_USER_ARG_INTERFACE_NAME): interface_name is no key.</summary>
    [Fact]
    public void Interface_name_is_not_a_dpdk_key_and_is_unknown()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},interface_name=tap0"));

        Assert.Contains("unknown key 'interface_name'", ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void Start_refuses_unequal_rx_and_tx_queue_counts()
    {
        using var lab = new VhostLab();
        var port = lab.ProbeVirtio("queues=2");
        var pool = lab.Pool("vu", 1024);
        port.Configure(2, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupRxQueue(1, 256, pool);
        port.SetupTxQueue(0, 256);

        var ex = Assert.Throws<EthDevException>(port.Start);

        Assert.Contains("as many Rx as Tx queues", ex.Message, StringComparison.Ordinal);
        Assert.Equal(EthDevState.Configured, port.State);
    }

    [Theory]
    [InlineData("queues=0", "key 'queues' = '0' is out of range 1..128")]
    [InlineData("queues=129", "key 'queues' = '129' is out of range 1..128")]
    [InlineData("queue_size=0", "key 'queue_size' = '0' is out of range 1..32768")]
    [InlineData("queue_size=65536", "key 'queue_size' = '65536' is out of range 1..32768")]
    [InlineData("speed=0", "key 'speed'")]
    [InlineData("mac=02:00:00:00:00", "key 'mac'")]
    public void Out_of_range_values_are_refused_naming_the_key(string args, string message)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DevargsException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},{args}"));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void A_queue_size_that_is_not_a_power_of_two_is_refused_for_split_rings()
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},queue_size=100"));

        Assert.StartsWith("virtio_user0: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("queue_size 100 is not a power of two", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("QueueSize", ex.Message, StringComparison.Ordinal);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void A_queue_size_that_is_not_a_power_of_two_works_with_packed_rings()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(virtioArgs: "queue_size=100,packed_vq=1");

        Assert.Equal(100, pair.Virtio.Options.QueueSize);
        Assert.True(pair.Virtio.Frontend!.IsPacked);
        var frames = TestFrames.Series([64, 1500, 4000], 50, 0, TestFrames.HostMac, TestFrames.GuestMac);
        TestFrames.AssertSame(frames, Traffic.Send(pair.Virtio, 0, pair.VirtioPool, pair.Vhost, 0, frames), "guest to host over a 100-entry packed ring");
        frames = TestFrames.Series([64, 1500, 4000], 50, 0, TestFrames.GuestMac, TestFrames.HostMac);
        TestFrames.AssertSame(frames, Traffic.Send(pair.Vhost, 0, pair.VhostTxPool, pair.Virtio, 0, frames), "host to guest over a 100-entry packed ring");
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01")]
    [InlineData("ff:ff:ff:ff:ff:ff")]
    [InlineData("03:00:00:00:00:01")]
    public void A_multicast_mac_is_refused(string mac)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={lab.Socket},mac={mac}"));

        Assert.Equal($"virtio_user0: mac {MacAddress.Parse(mac)} is a multicast address; a port needs a unicast one", ex.Message);
        AssertNothingLeft(lab);
    }

    [Theory]
    [InlineData("/dev/vhost-net")]
    [InlineData("/dev/vhost-vdpa-0")]
    public void A_path_under_dev_is_refused(string path)
    {
        using var lab = new VhostLab();

        var ex = Assert.Throws<DeviceException>(() => lab.Runtime.Vdev.Probe($"virtio_user0,path={path}"));

        Assert.Equal($"virtio_user0: path '{path}': vhost-vdpa and vhost-kernel devices are not supported; give a vhost-user socket", ex.Message);
        AssertNothingLeft(lab);
    }

    [Fact]
    public void An_rx_queue_on_a_pool_that_cannot_be_shared_is_refused_naming_the_pool()
    {
        using var lab = new VhostLab();
        var port = lab.ProbeVirtio();
        var pool = lab.Pool("private", 512, shareable: false);
        port.Configure(1, 1);

        var ex = Assert.Throws<EthDevException>(() => port.SetupRxQueue(0, 256, pool));

        Assert.Contains($"mempool '{pool.Name}' is not shareable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Shareable = true", ex.Message, StringComparison.Ordinal);
        Assert.Contains("virtio_user0", ex.Message, StringComparison.Ordinal);

        // A shareable pool is fine.
        port.SetupRxQueue(0, 256, lab.Pool("shared", 512));
    }

    [Fact]
    public void Start_without_a_backend_fails_after_the_connect_timeout_and_can_be_retried()
    {
        using var lab = new VhostLab();
        var port = lab.ProbeVirtio("connect-timeout=1");
        var pool = lab.Pool("vu", 1024);
        VhostLab.Setup(port, 1, pool);

        var ex = Assert.Throws<EthDevException>(port.Start);

        Assert.Contains("virtio_user0", ex.Message, StringComparison.Ordinal);
        Assert.Contains(lab.Socket, ex.Message, StringComparison.Ordinal);
        Assert.Equal(EthDevState.Configured, port.State);
        Assert.Equal(0, pool.InUseCount);

        // The backend appears: start works now.
        var vhost = lab.ProbeVhost();
        VhostLab.Setup(vhost, 1, lab.Pool("vh", 1024, shareable: false));
        vhost.Start();
        port.Start();
        lab.WaitLink(port, true);
        lab.WaitLink(vhost, true);
    }

    private static void AssertNothingLeft(VhostLab lab)
    {
        Assert.Empty(lab.Runtime.Vdev.Devices);
        Assert.Empty(lab.Runtime.Ports.All);
    }
}
