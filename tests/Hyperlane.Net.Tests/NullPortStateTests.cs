using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Net.Null;
using Hyperlane.Packets;

namespace Hyperlane.Net.Tests;

public class NullPortStateTests
{
    private static HyperlaneRuntime NewRuntime() => new(new HyperlaneRuntimeOptions { Drivers = [new NullDriver()] });

    private static Mempool Pool() => Mempool.CreatePacketPool($"nullsm_{Guid.NewGuid():N}", 256, cacheSize: 0);

    private static T Fails<T>(EthDev dev, string op, Errno error, Action action)
        where T : EthDevException
    {
        var ex = Assert.Throws<T>(action);
        Assert.StartsWith($"port {dev.PortId} ({dev.Name}): {op}: ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(op, ex.Operation);
        Assert.Equal(error, ex.Error);
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    [Fact]
    public void Queue_setup_before_configure_is_refused()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];

        var ex = Fails<EthDevStateException>(dev, "Rx queue setup", Errno.EBUSY, () => dev.SetupRxQueue(0, 512, pool));
        Assert.Equal("port 0 (net_null0): Rx queue setup: not allowed while the port is unconfigured: configure the port first, and stop it if started (EBUSY)", ex.Message);
        Fails<EthDevStateException>(dev, "Tx queue setup", Errno.EBUSY, () => dev.SetupTxQueue(0, 512));
        Fails<EthDevStateException>(dev, "start", Errno.EBUSY, dev.Start);
    }

    [Fact]
    public void Start_names_the_queue_that_is_not_set_up()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];
        dev.Configure(2, 2);
        dev.SetupRxQueue(0, 512, pool);
        dev.SetupRxQueue(1, 512, pool);
        dev.SetupTxQueue(1, 512);

        var ex = Fails<EthDevException>(dev, "start", Errno.EINVAL, dev.Start);
        Assert.Equal("port 0 (net_null0): start: Tx queue 0 is not set up (EINVAL)", ex.Message);
    }

    [Fact]
    public void Configure_or_queue_setup_while_started_is_refused_and_start_twice_is_harmless()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 512, pool);
        dev.SetupTxQueue(0, 512);
        dev.Start();
        dev.Start();

        var ex = Fails<EthDevStateException>(dev, "configure", Errno.EBUSY, () => dev.Configure(2, 2));
        Assert.Equal("port 0 (net_null0): configure: not allowed while the port is started: stop the port first (EBUSY)", ex.Message);
        Fails<EthDevStateException>(dev, "Rx queue setup", Errno.EBUSY, () => dev.SetupRxQueue(0, 512, pool));
        Fails<EthDevStateException>(dev, "Tx queue setup", Errno.EBUSY, () => dev.SetupTxQueue(0, 512));
        Assert.True(dev.IsStarted);
        var burst = new Mbuf[4];
        Assert.Equal(4, dev.RxBurst(0, burst));
        Mbuf.FreeBulk(burst);
    }

    [Fact]
    public void Stop_reconfigure_and_reset()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 512, pool);
        dev.SetupTxQueue(0, 512);
        dev.Start();
        dev.Stop();
        var burst = new Mbuf[4];
        Assert.Equal(0, dev.RxBurst(0, burst));

        dev.Configure(3, 1);
        for (int q = 0; q < 3; q++)
        {
            dev.SetupRxQueue(q, 512, pool);
        }

        dev.SetupTxQueue(0, 512);
        dev.Start();
        Assert.Equal(4, dev.RxBurst(2, burst));
        Mbuf.FreeBulk(burst);

        dev.Reset();
        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.Equal(0, dev.RxBurst(2, burst));
        Fails<EthDevStateException>(dev, "Rx queue setup", Errno.EBUSY, () => dev.SetupRxQueue(0, 512, pool));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Everything_after_close_is_refused()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];
        dev.Close();

        Assert.Equal(EthDevState.Closed, Fails<EthDevStateException>(dev, "configure", Errno.EBUSY, () => dev.Configure(1, 1)).State);
        Fails<EthDevStateException>(dev, "start", Errno.EBUSY, dev.Start);
        Fails<EthDevStateException>(dev, "Rx queue setup", Errno.EBUSY, () => dev.SetupRxQueue(0, 512, pool));
        Fails<EthDevStateException>(dev, "link get", Errno.EBUSY, () => dev.GetLink());
        Fails<EthDevStateException>(dev, "stats get", Errno.EBUSY, () => dev.GetStats());
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        Assert.Empty(rt.Ports.All);
    }

    [Fact]
    public void Configure_checks_against_the_null_port_info()
    {
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];
        var info = dev.Info;

        Assert.Equal(NullDriver.DriverName, info.DriverName);
        Assert.Equal(1024, info.MaxRxQueues);
        var ex = Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1025, 1));
        Assert.Contains("1025 Rx queues requested, the port supports 0..1024", ex.Message, StringComparison.Ordinal);
        var rx = Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { RxOffloads = RxOffloads.Checksum }));
        Assert.Contains("Rx offloads Checksum not supported (supported: None)", rx.Message, StringComparison.Ordinal);
        var tx = Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { TxOffloads = TxOffloads.TcpTso }));
        Assert.Contains("(supported: MultiSegments, MbufFastFree)", tx.Message, StringComparison.Ordinal);
        var lsc = Fails<EthDevException>(dev, "configure", Errno.EINVAL, () => dev.Configure(1, 1, new EthConf { LinkStatusEvents = true }));
        Assert.Contains("link status events requested but the driver cannot raise them", lsc.Message, StringComparison.Ordinal);
        var mtu = Fails<EthDevException>(dev, "MTU set", Errno.EINVAL, () => dev.SetMtu(65518));
        Assert.Equal("port 0 (net_null0): MTU set: MTU 65518 out of range 68..65517 (EINVAL)", mtu.Message);

        dev.Configure(1024, 1024, new EthConf { Rss = new RssConf { HashFunctions = RssHashFunctions.Ip | RssHashFunctions.Tcp | RssHashFunctions.Udp }, Mtu = 65517 });
        Assert.Equal(65517, dev.Mtu);
    }

    [Fact]
    public void Link_mac_and_promiscuous_on_a_null_port()
    {
        using var pool = Pool();
        using var rt = NewRuntime();
        var dev = rt.Vdev.Probe("net_null0").Ports[0];

        Assert.Equal(LinkStatus.Down, dev.GetLink());
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 512, pool);
        dev.SetupTxQueue(0, 512);
        dev.Start();
        Assert.Equal(LinkStatus.Up(LinkSpeed.Gbps10), dev.GetLink());
        dev.SetLinkDown(); // supported, does nothing
        dev.SetLinkUp();
        dev.EnablePromiscuous();
        Assert.True(dev.Promiscuous);

        var add = Fails<EthDevException>(dev, "MAC address add", Errno.ENOSPC, () => dev.AddMacAddress(MacAddress.Parse("02:00:00:00:00:07")));
        Assert.Contains("the port filters at most 1 MAC addresses", add.Message, StringComparison.Ordinal);
        Fails<EthDevException>(dev, "MAC address set", Errno.EINVAL, () => dev.SetMacAddress(MacAddress.Parse("01:00:00:00:00:07")));
        dev.SetMacAddress(MacAddress.Parse("02:00:00:00:00:07"));
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:07"), dev.MacAddress);
        dev.SetMulticastList([MacAddress.Parse("01:00:5e:00:00:fb")]);
        Assert.Single(dev.MulticastAddresses);
    }
}
