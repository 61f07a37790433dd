using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

/// <summary>
/// Closing and resetting must leave a consistent port even when the driver fails: a device that was
/// unplugged cannot answer its stop or close, yet its port must go (DPDK's rte_eth_dev_close releases the
/// port whatever dev_close returns).
/// </summary>
public class PortTeardownTests
{
    private static TestEthDev Started(HyperlaneRuntime rt, Mempool pool, string name = "td0")
    {
        var dev = new TestEthDev(name);
        rt.Ports.Register(dev);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();
        dev.Rx(0).Inject(TestPools.Alloc(pool, 5, 60));
        return dev;
    }

    [Fact]
    public void Close_of_a_started_port_whose_stop_fails_still_releases_it_and_reports_the_failure()
    {
        using var pool = TestPools.Packets("td");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool);
        var destroyed = new List<string>();
        rt.Ports.EventRaised += (_, e) => destroyed.Add($"{e.Type} {e.PortName}");
        var cause = new InvalidOperationException("device gone");
        dev.FailOn(TestHook.Stop, cause);

        var ex = PortAssert.Fails<EthDevException>(dev, "stop", Errno.EIO, dev.Close, "device gone");

        Assert.Same(cause, ex.InnerException);
        Assert.Equal(EthDevState.Closed, dev.State);
        Assert.Equal(1, dev.CloseCalls); // the driver still got to release what it holds
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(["Destroy td0"], destroyed);
        Assert.Empty(rt.Ports.All);
        rt.Ports.Register(new TestEthDev("td0")); // the name is free again
        dev.Close(); // and closing again does nothing
    }

    [Fact]
    public void Close_whose_driver_close_fails_still_releases_the_port()
    {
        using var pool = TestPools.Packets("td");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool);
        var destroyed = new List<string>();
        rt.Ports.EventRaised += (_, e) => destroyed.Add($"{e.Type} {e.PortName}");
        dev.FailOn(TestHook.Close, new LinuxException("close", Errno.EBADF));

        PortAssert.Fails<EthDevException>(dev, "close", Errno.EBADF, dev.Close);

        Assert.Equal(EthDevState.Closed, dev.State);
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(["Destroy td0"], destroyed);
        Assert.Null(rt.Ports.FindByName("td0"));
    }

    [Fact]
    public void Reset_whose_stop_fails_leaves_the_port_stopped_with_its_queues()
    {
        using var pool = TestPools.Packets("td");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool);
        dev.FailOn(TestHook.Stop, new InvalidOperationException("stop timed out"));

        PortAssert.Fails<EthDevException>(dev, "stop", Errno.EIO, dev.Reset);

        Assert.Equal(EthDevState.Configured, dev.State);
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        Assert.Equal(1, dev.RxQueueCount);
        Assert.Equal(0, dev.ResetCalls);
        dev.ClearFailure(TestHook.Stop);
        dev.Reset();
        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Reset_whose_driver_reset_fails_leaves_the_port_unconfigured()
    {
        using var pool = TestPools.Packets("td");
        using var rt = new HyperlaneRuntime();
        var dev = Started(rt, pool);
        dev.FailOn(TestHook.Reset, new InvalidOperationException("firmware reset failed"));

        PortAssert.Fails<EthDevException>(dev, "reset", Errno.EIO, dev.Reset, "firmware reset failed");

        Assert.Equal(EthDevState.Unconfigured, dev.State); // its queues and configuration are gone
        Assert.False(dev.IsStarted);
        Assert.Null(dev.Configuration);
        Assert.Equal(0, dev.RxQueueCount);
        Assert.False(dev.GetLink().IsUp);
        Assert.True(pool.Audit().IsFull);
        dev.ClearFailure(TestHook.Reset);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();
    }

    [Fact]
    public void Vdev_remove_closes_every_port_of_the_device_even_when_one_fails()
    {
        using var pool = TestPools.Packets("td");
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new TestDriver()] });
        var ports = rt.Vdev.Probe("net_test0,ports=3").Ports.Cast<TestEthDev>().ToArray();
        ports[0].FailOn(TestHook.Close, new InvalidOperationException("device unplugged"));

        var ex = Assert.Throws<EthDevException>(() => rt.Vdev.Remove("net_test0"));

        Assert.Equal("port 0 (net_test0): close: device unplugged (EIO)", ex.Message);
        Assert.All(ports, p => Assert.Equal(EthDevState.Closed, p.State));
        Assert.Empty(rt.Ports.All);
        Assert.Null(rt.Vdev.Find("net_test0"));
        rt.Vdev.Probe("net_test0,ports=3");
    }

    [Fact]
    public void Disposing_the_runtime_closes_everything_even_when_a_port_fails_to_close()
    {
        using var pool = TestPools.Packets("td");
        var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new TestDriver()] });
        try
        {
            var probed = rt.Vdev.Probe("net_test0,ports=2").Ports.Cast<TestEthDev>().ToArray();
            var direct = Started(rt, pool);
            var direct2 = new TestEthDev("td1");
            rt.Ports.Register(direct2);
            probed[1].FailOn(TestHook.Close, new InvalidOperationException("gone"));
            direct2.FailOn(TestHook.Close, new InvalidOperationException("gone too"));

            rt.Dispose(); // does not throw

            Assert.All([.. probed, direct, direct2], p => Assert.Equal(EthDevState.Closed, p.State));
            Assert.Empty(rt.Ports.All);
            Assert.Empty(rt.Vdev.Devices);
            Assert.True(pool.Audit().IsFull);
            Assert.Throws<ObjectDisposedException>(() => rt.Control.Post("late", () => { }));
        }
        finally
        {
            rt.Dispose();
        }
    }
}
