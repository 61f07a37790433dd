using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

public class VdevBusTests
{
    private static HyperlaneRuntime NewRuntime(params IVdevDriver[] drivers) =>
        new(new HyperlaneRuntimeOptions { Drivers = drivers.Length == 0 ? [new TestDriver()] : drivers });

    [Fact]
    public void Probe_registers_the_ports_and_remembers_the_device()
    {
        var driver = new TestDriver();
        using var rt = NewRuntime(driver);
        var events = new List<EthDevEventArgs>();
        rt.Ports.EventRaised += (_, e) => events.Add(e);

        var device = rt.Vdev.Probe("net_test0,ports=2");

        Assert.Equal("net_test0", device.Name);
        Assert.Same(driver, device.Driver);
        Assert.Equal("net_test0,ports=2", device.ToString());
        Assert.Equal(["net_test0", "net_test0_1"], device.Ports.Select(p => p.Name));
        Assert.Equal([0, 1], device.Ports.Select(p => (int)p.PortId));
        Assert.Equal(device.Ports, rt.Ports.Ports);
        Assert.Same(device, rt.Vdev.Find("net_test0"));
        Assert.Equal([device], rt.Vdev.Devices);
        Assert.Equal([EthDevEventType.New, EthDevEventType.New], events.Select(e => e.Type));
    }

    [Fact]
    public void Driver_names_and_aliases_match_by_longest_prefix()
    {
        var plain = new TestDriver("net_test", "eth_test");
        var special = new TestDriver("net_test_special");
        using var rt = NewRuntime(plain, special);

        Assert.Same(special, rt.Vdev.Probe("net_test_special0").Driver);
        Assert.Same(plain, rt.Vdev.Probe("net_test0").Driver);
        Assert.Same(plain, rt.Vdev.Probe("net_test_spec0").Driver);
        Assert.Same(plain, rt.Vdev.Probe("eth_test0").Driver);
        Assert.Equal("net_test_special", rt.Ports.FindByName("net_test_special0")!.DriverName);
        Assert.Same(special, rt.Drivers.Match("net_test_special_x"));
        Assert.Null(rt.Drivers.Match("net_tes"));
    }

    [Fact]
    public void A_driver_name_or_alias_can_be_registered_once()
    {
        using var rt = NewRuntime(new TestDriver("net_test", "eth_test"));

        var ex = Assert.Throws<InvalidOperationException>(() => rt.Drivers.Register(new TestDriver("net_other", "eth_test")));
        Assert.Equal("a driver named 'eth_test' is already registered", ex.Message);
        Assert.Single(rt.Drivers.Drivers);
    }

    [Fact]
    public void An_unknown_driver_name_lists_the_known_drivers()
    {
        using var rt = NewRuntime(new TestDriver("net_test"), new TestDriver("net_alpha"));

        var ex = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_bogus0,x=1"));

        Assert.Equal("net_bogus0: no driver for this device name (known drivers: net_alpha, net_test)", ex.Message);
        Assert.Equal("net_bogus0", ex.DeviceName);
        Assert.Empty(rt.Vdev.Devices);
    }

    [Theory]
    [InlineData("net_test0,bogus=1", "net_test0: unknown key 'bogus' (valid keys: fail, ports, second)")]
    [InlineData("net_test0,ports=x", "net_test0: key 'ports' = 'x' is not an integer")]
    [InlineData("net_test0,ports=9", "net_test0: key 'ports' = '9' is out of range 1..4")]
    [InlineData("net_test0,second=(a", "net_test0: unbalanced parentheses: '(' at position 17 is never closed")]
    [InlineData("net_test0,ports=1)", "net_test0: unbalanced parentheses: unexpected ')' at position 17")]
    public void Bad_devargs_give_a_one_line_devargs_exception(string devargs, string message)
    {
        var driver = new TestDriver();
        using var rt = NewRuntime(driver);

        var ex = Assert.Throws<DevargsException>(() => rt.Vdev.Probe(devargs));

        Assert.Equal(message, ex.Message);
        Assert.Empty(rt.Vdev.Devices);
        Assert.Empty(rt.Ports.All);
        Assert.Empty(driver.Created);
    }

    [Fact]
    public void A_duplicate_device_or_port_name_is_refused()
    {
        using var rt = NewRuntime();
        rt.Vdev.Probe("net_test0");
        rt.Ports.Register(new TestEthDev("net_test1"));

        var dup = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_test0,ports=2"));
        Assert.Equal("net_test0: a device with this name already exists", dup.Message);
        var taken = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_test1"));
        Assert.Equal("net_test1: a device with this name already exists", taken.Message);
        Assert.Equal(2, rt.Ports.Count);
        Assert.Single(rt.Vdev.Devices);
    }

    [Fact]
    public void A_failing_probe_leaves_nothing_behind_and_the_name_can_be_probed_again()
    {
        var driver = new TestDriver();
        using var rt = NewRuntime(driver);

        var ex = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_test0,fail=1"));
        Assert.Equal("net_test0: probe failed: the test driver was told to fail", ex.Message);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Empty(rt.Vdev.Devices);
        Assert.Null(rt.Vdev.Find("net_test0"));
        Assert.Empty(rt.Ports.All);

        var cause = new DeviceException("net_test0", "no such backend");
        driver.ProbeFailure = cause;
        Assert.Same(cause, Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_test0")));
        driver.ProbeFailure = new DevargsException("net_test0", "ports", "ports must be even");
        Assert.IsType<DevargsException>(Assert.Throws<DevargsException>(() => rt.Vdev.Probe("net_test0")));
        Assert.Empty(rt.Vdev.Devices);

        driver.ProbeFailure = null;
        var device = rt.Vdev.Probe("net_test0");
        Assert.Equal("net_test0", Assert.Single(rt.Ports.Ports).Name);
        Assert.Same(device, rt.Vdev.Find("net_test0"));
    }

    [Fact]
    public void When_registering_a_later_port_fails_the_earlier_ones_are_closed()
    {
        var driver = new TestDriver();
        using var rt = NewRuntime(driver);
        var existing = new TestEthDev("taken");
        rt.Ports.Register(existing);
        var events = new List<EthDevEventArgs>();
        rt.Ports.EventRaised += (_, e) => events.Add(e);

        var ex = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_test0,ports=2,second=taken"));

        Assert.StartsWith("net_test0: probe failed: port 65535 (taken): register: a port with this name exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal([existing], rt.Ports.All);
        Assert.All(driver.Created, p => Assert.Equal(EthDevState.Closed, p.State));
        Assert.Equal([EthDevEventType.New, EthDevEventType.Destroy], events.Select(e => e.Type));
        Assert.Empty(rt.Vdev.Devices);
        rt.Vdev.Probe("net_test0,ports=2");
        Assert.Equal(3, rt.Ports.Count);
    }

    [Fact]
    public void Remove_closes_the_ports_and_forgets_the_device()
    {
        using var pool = TestPools.Packets("vdev");
        using var rt = NewRuntime();
        var device = rt.Vdev.Probe("net_test0,ports=2");
        var port = (TestEthDev)device.Ports[0];
        port.Configure(1, 1);
        port.SetupRxQueue(0, 64, pool);
        port.SetupTxQueue(0, 64);
        port.Start();
        port.Rx(0).Inject(TestPools.Alloc(pool, 5, 60));
        var destroyed = new List<string>();
        rt.Ports.EventRaised += (_, e) =>
        {
            if (e.Type == EthDevEventType.Destroy)
            {
                destroyed.Add(e.PortName);
            }
        };

        Assert.True(rt.Vdev.Remove("net_test0"));

        Assert.Equal(["net_test0", "net_test0_1"], destroyed);
        Assert.All(device.Ports, p => Assert.Equal(EthDevState.Closed, p.State));
        Assert.Equal(1, port.StopCalls);
        Assert.True(pool.Audit().IsFull);
        Assert.Empty(rt.Ports.All);
        Assert.Null(rt.Vdev.Find("net_test0"));
        Assert.False(rt.Vdev.Remove("net_test0"));
        Assert.False(rt.Vdev.Remove("nothing0"));
        rt.Vdev.Probe("net_test0");
    }

    [Fact]
    public void Remove_closes_an_owned_port_through_its_owner()
    {
        using var rt = NewRuntime();
        var port = rt.Vdev.Probe("net_test0").Ports[0];
        rt.Ports.Claim(port, new EthDevOwner("net_failsafe0"));

        Assert.True(rt.Vdev.Remove("net_test0"));

        Assert.Equal(EthDevState.Closed, port.State);
        Assert.Empty(rt.Ports.All);
    }

    [Fact]
    public void Hot_plug_at_run_time_leaves_a_started_port_working()
    {
        using var pool = TestPools.Packets("vdev", count: 512);
        using var rt = NewRuntime();
        var port = (TestEthDev)rt.Vdev.Probe("net_test0").Ports[0];
        port.Configure(1, 1);
        port.SetupRxQueue(0, 256, pool);
        port.SetupTxQueue(0, 256);
        port.Start();
        var burst = new Mbuf[8];

        for (int round = 0; round < 5; round++)
        {
            var plugged = rt.Vdev.Probe("net_test1");
            var other = (TestEthDev)plugged.Ports[0];
            other.Configure(1, 1);
            other.SetupRxQueue(0, 64, pool);
            other.SetupTxQueue(0, 64);
            other.Start();

            port.Rx(0).Inject(TestPools.Alloc(pool, 8, 60));
            Assert.Equal(8, port.RxBurst(0, burst));
            Assert.Equal(8, port.TxBurst(0, burst));
            Mbuf.FreeBulk(port.Tx(0).TakeSent());

            Assert.True(rt.Vdev.Remove("net_test1"));
            Assert.Equal(EthDevState.Closed, other.State);
            Assert.True(port.IsStarted);
        }

        Assert.Equal(40, port.GetStats().RxPackets);
        Assert.Equal(40, port.GetStats().TxPackets);
        Assert.Equal(0, port.PortId);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void The_probe_context_carries_the_runtime_and_the_values()
    {
        var driver = new RecordingDriver();
        using var rt = NewRuntime(driver);

        rt.Vdev.Probe("net_rec0,n=7");

        var ctx = Assert.IsType<VdevProbeContext>(driver.Context);
        Assert.Same(rt, ctx.Runtime);
        Assert.Equal("net_rec0", ctx.DeviceName);
        Assert.Equal(7, ctx.Values.GetInt("n"));
        Assert.Equal("net_rec0,n=7", ctx.Devargs.ToString());
        Assert.NotNull(ctx.Logger);
        Assert.Empty(rt.Ports.All); // a device may have no ports
        Assert.NotNull(rt.Vdev.Find("net_rec0"));
    }

    private sealed class RecordingDriver : IVdevDriver
    {
        public string Name => "net_rec";

        public IReadOnlyList<string> Aliases => [];

        public string Description => "records its probe context";

        public DevargsSchema Schema { get; } = new DevargsSchema("net_rec").Int("n");

        public VdevProbeContext? Context { get; private set; }

        public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
        {
            Context = context;
            return [];
        }
    }
}
