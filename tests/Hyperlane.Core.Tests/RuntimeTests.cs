using Hyperlane.Core.Ports;
using Hyperlane.Core.Runtime;

namespace Hyperlane.Core.Tests;

public class RuntimeTests
{
    [Fact]
    public void Shutdown_request_cancels_the_token()
    {
        using var signal = new ShutdownSignal();
        bool called = false;
        using var registration = signal.Token.Register(() => called = true);

        Assert.False(signal.Token.IsCancellationRequested);
        signal.Request();

        Assert.True(signal.Token.IsCancellationRequested);
        Assert.True(called);
        Assert.Null(signal.Received);
        signal.Request(); // twice: harmless
    }

    [Fact]
    public void The_runtime_registers_the_drivers_it_is_given()
    {
        var a = new TestDriver("net_a");
        var b = new TestDriver("net_b");
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [a, b] });

        Assert.Equal([a, b], rt.Drivers.Drivers);
        Assert.NotNull(rt.CreateLogger("test"));
    }

    [Fact]
    public void Dispose_removes_devices_closes_every_port_and_stops_the_control_thread()
    {
        using var pool = TestPools.Packets("rt");
        var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new TestDriver()] });
        try
        {
            var probed = (TestEthDev)rt.Vdev.Probe("net_test0").Ports[0];
            var direct = new TestEthDev("direct0");
            rt.Ports.Register(direct);
            direct.Configure(1, 1);
            direct.SetupRxQueue(0, 64, pool);
            direct.SetupTxQueue(0, 64);
            direct.Start();
            direct.Rx(0).Inject(TestPools.Alloc(pool, 4, 60));
            var destroyed = new List<string>();
            rt.Ports.EventRaised += (_, e) => destroyed.Add($"{e.Type} {e.PortName}");

            rt.Dispose();

            Assert.Equal(["Destroy net_test0", "Destroy direct0"], destroyed);
            Assert.Equal(EthDevState.Closed, probed.State);
            Assert.Equal(EthDevState.Closed, direct.State);
            Assert.Empty(rt.Vdev.Devices);
            Assert.Empty(rt.Ports.All);
            Assert.True(pool.Audit().IsFull);
            Assert.Throws<ObjectDisposedException>(() => rt.Control.Post("late", () => { }));
        }
        finally
        {
            rt.Dispose();
        }
    }
}
