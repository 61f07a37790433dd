using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Core.Tests;

public class PortValidationTests
{
    private static TestEthDev Register(HyperlaneRuntime rt, string name = "test0")
    {
        var dev = new TestEthDev(name);
        rt.Ports.Register(dev);
        return dev;
    }

    [Theory]
    [InlineData(5, 1, "5 Rx queues requested, the port supports 0..4")]
    [InlineData(-1, 1, "-1 Rx queues requested, the port supports 0..4")]
    [InlineData(1, 5, "5 Tx queues requested, the port supports 0..4")]
    [InlineData(0, 0, "at least one Rx or Tx queue is needed")]
    public void Configure_checks_queue_counts_against_the_device_info(int rx, int tx, string reason)
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        var ex = PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(rx, tx));
        Assert.Equal($"port 0 (test0): configure: {reason} (EINVAL)", ex.Message);
        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.Equal(0, dev.ConfigureCalls);
        dev.Configure(4, 4);
        dev.Configure(0, 1);
        dev.Configure(1, 0);
        Assert.Equal(EthDevState.Configured, dev.State);
    }

    [Fact]
    public void Configure_refuses_unsupported_offloads_and_lists_the_supported_ones()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        var info = dev.Info;

        PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { RxOffloads = RxOffloads.TcpLro | RxOffloads.VlanStrip }),
            "Rx offloads TcpLro not supported", $"(supported: {info.RxOffloadCapabilities})", "VlanStrip", "Checksum");
        PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { TxOffloads = TxOffloads.TcpTso }),
            "Tx offloads TcpTso not supported", $"(supported: {info.TxOffloadCapabilities})");
        PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(2, 1, new EthConf { Rss = new RssConf { HashFunctions = RssHashFunctions.Ip | RssHashFunctions.Udp } }),
            "RSS hash functions Udp not supported", "(supported: Ip)");
        PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { RemovalEvents = true }),
            "removal events requested but the driver cannot raise them");

        Assert.Equal(EthDevState.Unconfigured, dev.State);
        var conf = new EthConf
        {
            RxOffloads = RxOffloads.Checksum,
            TxOffloads = TxOffloads.Ipv4Checksum,
            Rss = new RssConf { HashFunctions = RssHashFunctions.Ipv4 },
            LinkStatusEvents = true,
            Mtu = 9000,
        };
        dev.Configure(2, 1, conf);
        Assert.Same(conf, dev.Configuration);
        Assert.Equal(9000, dev.Mtu);
    }

    [Theory]
    [InlineData(67)]
    [InlineData(9001)]
    public void Configure_refuses_an_mtu_out_of_range_naming_the_port_and_the_range(int mtu)
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        var ex = PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { Mtu = mtu }));
        Assert.Equal($"port 0 (test0): configure: MTU {mtu} out of range 68..9000 (EINVAL)", ex.Message);
        Assert.Equal(1500, dev.Mtu);
        Assert.Equal(EthDevState.Unconfigured, dev.State);
    }

    [Fact]
    public void A_failed_configure_keeps_the_previous_configuration()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        var conf = new EthConf { RxOffloads = RxOffloads.VlanStrip };
        dev.Configure(2, 2, conf);
        dev.SetupRxQueue(0, 64, pool);

        Assert.Throws<EthDevException>(() => dev.Configure(9, 1));
        dev.FailOn(TestHook.Configure, new InvalidOperationException("device busy"));
        Assert.Throws<EthDevException>(() => dev.Configure(1, 1));

        Assert.Same(conf, dev.Configuration);
        Assert.Equal(2, dev.RxQueueCount);
        Assert.False(dev.Rx(0).Released);
    }

    [Fact]
    public void Rx_queue_setup_checks_queue_id_descriptors_pool_and_offloads()
    {
        using var pool = TestPools.Packets("val");
        using var plain = Mempool.Create($"val_plain_{Guid.NewGuid():N}", 16, 64);
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.Configure(2, 1);

        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(2, 64, pool), "queue 2 does not exist (configured Rx queues: 2)");
        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(-1, 64, pool), "queue -1 does not exist");
        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(0, 31, pool), "31 descriptors out of range 32..4096");
        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(0, 4097, pool), "4097 descriptors out of range 32..4096");
        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(0, 64, plain), $"mempool '{plain.Name}' holds plain objects, not mbufs");
        PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.EINVAL, () => dev.SetupRxQueue(0, 64, pool, new RxQueueConf { Offloads = RxOffloads.Timestamp }), "Rx queue offloads Timestamp not supported");
        Assert.Throws<ArgumentNullException>(() => dev.SetupRxQueue(0, 64, null!));

        dev.SetupRxQueue(0, 32, pool);
        dev.SetupRxQueue(1, 4096, pool, new RxQueueConf { Offloads = RxOffloads.VlanStrip });
        Assert.Equal(4096, dev.Rx(1).Descriptors);
        Assert.Same(pool, dev.Rx(1).Pool);
    }

    [Fact]
    public void Tx_queue_setup_checks_queue_id_descriptors_and_offloads()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.Configure(1, 1);

        PortAssert.Fails<EthDevException>(dev, "Tx queue setup", Errno.EINVAL, () => dev.SetupTxQueue(1, 64), "queue 1 does not exist (configured Tx queues: 1)");
        PortAssert.Fails<EthDevException>(dev, "Tx queue setup", Errno.EINVAL, () => dev.SetupTxQueue(0, 0), "0 descriptors out of range 32..4096");
        PortAssert.Fails<EthDevException>(dev, "Tx queue setup", Errno.EINVAL, () => dev.SetupTxQueue(0, 64, new TxQueueConf { Offloads = TxOffloads.UdpTso }), "Tx queue offloads UdpTso not supported");
        dev.SetupTxQueue(0, 64, new TxQueueConf { Offloads = TxOffloads.TcpChecksum });
    }

    [Fact]
    public void A_driver_invalid_operation_comes_out_as_an_eio_naming_the_operation()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        var cause = new InvalidOperationException("firmware did not answer");
        dev.FailOn(TestHook.Start, cause);

        var ex = PortAssert.Fails<EthDevException>(dev, "start", Errno.EIO, dev.Start);
        Assert.Equal("port 0 (test0): start: firmware did not answer (EIO)", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(EthDevState.Configured, dev.State);
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));

        dev.ClearFailure(TestHook.Start);
        dev.Start();
        Assert.True(dev.IsStarted);
    }

    [Fact]
    public void A_driver_argument_exception_comes_out_as_einval()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.FailOn(TestHook.Configure, new ArgumentException("queue pairs must be equal"));

        var ex = PortAssert.Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 2), "queue pairs must be equal");
        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.Null(dev.Configuration);
        Assert.Equal("port 0 (test0): configure: queue pairs must be equal (EINVAL)", ex.Message);
    }

    [Fact]
    public void A_driver_linux_exception_keeps_its_errno()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.Configure(1, 1);
        var cause = new LinuxException("mmap", Errno.ENOMEM);
        dev.FailOn(TestHook.SetupRx, cause);

        var ex = PortAssert.Fails<EthDevException>(dev, "Rx queue setup", Errno.ENOMEM, () => dev.SetupRxQueue(0, 64, pool), "mmap failed: ENOMEM");
        Assert.Same(cause, ex.InnerException);

        dev.SetupTxQueue(0, 64);
        PortAssert.Fails<EthDevException>(dev, "start", Errno.EINVAL, dev.Start, "Rx queue 0 is not set up");
    }

    [Fact]
    public void Driver_failures_in_other_operations_name_them_and_leave_the_port_as_it_was()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.FailOn(TestHook.SetMtu, new ArgumentException("jumbo frames need firmware 2"));
        dev.FailOn(TestHook.SetPromiscuous, new IOException("register write failed"));
        dev.FailOn(TestHook.SetMac, new LinuxException("ioctl(SIOCSIFHWADDR)", Errno.EPERM));
        dev.FailOn(TestHook.SetupTx, new TimeoutException("no reply from the host"));

        PortAssert.Fails<EthDevException>(dev, "MTU set", Errno.EINVAL, () => dev.SetMtu(9000), "jumbo frames need firmware 2");
        PortAssert.Fails<EthDevException>(dev, "promiscuous enable", Errno.EIO, dev.EnablePromiscuous, "register write failed");
        PortAssert.Fails<EthDevException>(dev, "MAC address set", Errno.EPERM, () => dev.SetMacAddress(MacAddress.Parse("02:11:22:33:44:55")), "SIOCSIFHWADDR");
        dev.Configure(1, 1);
        PortAssert.Fails<EthDevException>(dev, "Tx queue setup", Errno.EIO, () => dev.SetupTxQueue(0, 64), "no reply from the host");

        Assert.Equal(1500, dev.Mtu);
        Assert.False(dev.Promiscuous);
        Assert.NotEqual(MacAddress.Parse("02:11:22:33:44:55"), dev.MacAddress);
    }

    [Fact]
    public void A_failing_stop_still_stops_the_data_path()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();
        dev.Rx(0).Inject(TestPools.Alloc(pool, 2, 60));
        dev.FailOn(TestHook.Stop, new InvalidOperationException("queue flush timed out"));

        PortAssert.Fails<EthDevException>(dev, "stop", Errno.EIO, dev.Stop, "queue flush timed out");

        Assert.Equal(EthDevState.Configured, dev.State);
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
    }

    [Fact]
    public void Operations_the_driver_lacks_are_not_supported_with_enotsup()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.SupportsMulticast = false;

        var up = PortAssert.Fails<EthDevNotSupportedException>(dev, "link up", Errno.ENOTSUP, dev.SetLinkUp);
        Assert.Equal("port 0 (test0): link up: not supported by net_test (ENOTSUP)", up.Message);
        PortAssert.Fails<EthDevNotSupportedException>(dev, "link down", Errno.ENOTSUP, dev.SetLinkDown, "not supported by net_test");
        PortAssert.Fails<EthDevNotSupportedException>(dev, "multicast list set", Errno.ENOTSUP, () => dev.SetMulticastList([MacAddress.Parse("01:00:5e:00:00:01")]));
        Assert.Empty(dev.MulticastAddresses);
    }

    [Fact]
    public void Bursts_on_a_port_that_is_not_started_or_a_queue_that_does_not_exist_return_zero()
    {
        using var pool = TestPools.Packets("val");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        var packets = TestPools.Alloc(pool, 4, 60);
        var burst = new Mbuf[8];

        Assert.Equal(0, dev.RxBurst(0, burst)); // unconfigured
        Assert.Equal(0, dev.TxBurst(0, packets));
        dev.Configure(2, 2);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupRxQueue(1, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.SetupTxQueue(1, 64);
        dev.Rx(0).Inject(TestPools.Alloc(pool, 2, 60));
        Assert.Equal(0, dev.RxBurst(0, burst)); // configured, not started
        Assert.Equal(0, dev.TxBurst(0, packets));

        dev.Start();
        foreach (int q in new[] { -1, 2, 17, int.MaxValue, int.MinValue })
        {
            Assert.Equal(0, dev.RxBurst(q, burst));
            Assert.Equal(0, dev.TxBurst(q, packets));
        }

        Assert.Equal(0, dev.RxBurst(0, Span<Mbuf>.Empty));
        Assert.Equal(0, dev.TxBurst(0, ReadOnlySpan<Mbuf>.Empty));
        Assert.Equal(2, dev.RxBurst(0, burst));
        Assert.Equal(4, dev.TxBurst(1, packets));
        dev.Stop();
        Assert.Equal(0, dev.TxBurst(1, burst.AsSpan(0, 2)));
        Mbuf.FreeBulk(burst.AsSpan(0, 2));
        Assert.Equal(0, dev.GetStats().TxErrors);
    }
}
