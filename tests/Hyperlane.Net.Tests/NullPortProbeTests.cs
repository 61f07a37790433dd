using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.Null;
using Hyperlane.Net.Ring;

namespace Hyperlane.Net.Tests;

public class NullPortProbeTests
{
    private static HyperlaneRuntime NewRuntime(params IVdevDriver[] extra) =>
        new(new HyperlaneRuntimeOptions { Drivers = [new NullDriver(), new RingDriver(), .. extra] });

    [Fact]
    public void Probe_with_size_makes_a_null_port_of_that_packet_size()
    {
        using var rt = NewRuntime();

        var device = rt.Vdev.Probe("net_null0,size=128");

        var port = Assert.IsType<NullEthDev>(Assert.Single(device.Ports));
        Assert.Equal(128, port.PacketSize);
        Assert.False(port.Copy);
        Assert.False(port.NoRx);
        Assert.Equal("net_null0", port.Name);
        Assert.Equal(NullDriver.DriverName, port.DriverName);
        Assert.Equal([port], rt.Ports.Ports);
    }

    [Fact]
    public void The_eth_null_alias_reaches_net_null()
    {
        using var rt = NewRuntime();

        var device = rt.Vdev.Probe("eth_null0,copy=1");

        Assert.IsType<NullDriver>(device.Driver);
        var port = Assert.IsType<NullEthDev>(device.Ports[0]);
        Assert.Equal("eth_null0", port.Name);
        Assert.Equal(64, port.PacketSize);
        Assert.True(port.Copy);
    }

    [Fact]
    public void The_longest_driver_prefix_wins()
    {
        var special = new SpecialDriver();
        using var rt = NewRuntime(special);

        var a = rt.Vdev.Probe("net_null_special0");
        var b = rt.Vdev.Probe("net_null0");
        var c = rt.Vdev.Probe("net_null_spec0");

        Assert.Same(special, a.Driver);
        Assert.Equal(1, special.Probes);
        Assert.IsType<NullDriver>(b.Driver);
        Assert.IsType<NullEthDev>(b.Ports[0]);
        Assert.IsType<NullDriver>(c.Driver);
    }

    [Fact]
    public void An_unknown_driver_lists_the_known_ones()
    {
        using var rt = NewRuntime();

        var ex = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_tap0,iface=x"));

        Assert.Equal("net_tap0: no driver for this device name (known drivers: net_null, net_ring)", ex.Message);
    }

    [Theory]
    [InlineData("net_null0,sizee=64", "net_null0: unknown key 'sizee' (valid keys: copy, no-rx, size)")]
    [InlineData("net_null0,size=abc", "net_null0: key 'size' = 'abc' is not an integer")]
    [InlineData("net_null0,size=0", "net_null0: key 'size' = '0' is out of range 1..65535")]
    [InlineData("net_null0,copy=2", "net_null0: key 'copy' = '2' is not a boolean (expected 0, 1, true or false)")]
    [InlineData("net_null0,size=(64", "net_null0: unbalanced parentheses: '(' at position 15 is never closed")]
    [InlineData("net_null0,size=64)", "net_null0: unbalanced parentheses: unexpected ')' at position 17")]
    public void Bad_devargs_give_the_exact_one_line_message(string devargs, string message)
    {
        using var rt = NewRuntime();

        var ex = Assert.Throws<DevargsException>(() => rt.Vdev.Probe(devargs));

        Assert.Equal(message, ex.Message);
        Assert.Empty(rt.Vdev.Devices);
        Assert.Empty(rt.Ports.All);
        rt.Vdev.Probe("net_null0"); // the name was not reserved
    }

    [Fact]
    public void A_duplicate_name_is_refused()
    {
        using var rt = NewRuntime();
        rt.Vdev.Probe("net_null0");

        var ex = Assert.Throws<DeviceException>(() => rt.Vdev.Probe("net_null0,size=256"));

        Assert.Equal("net_null0: a device with this name already exists", ex.Message);
        Assert.Equal(64, ((NullEthDev)rt.Ports.Ports[0]).PacketSize);
    }

    [Fact]
    public void Remove_raises_destroy_and_unknown_names_return_false()
    {
        using var rt = NewRuntime();
        var port = rt.Vdev.Probe("net_null0").Ports[0];
        var events = new List<EthDevEventArgs>();
        rt.Ports.EventRaised += (_, e) => events.Add(e);

        Assert.True(rt.Vdev.Remove("net_null0"));
        Assert.False(rt.Vdev.Remove("net_null0"));
        Assert.False(rt.Vdev.Remove("net_null1"));

        Assert.Equal(EthDevState.Closed, port.State);
        var destroy = Assert.Single(events);
        Assert.Equal(EthDevEventType.Destroy, destroy.Type);
        Assert.Equal("net_null0", destroy.PortName);
        Assert.Empty(rt.Ports.All);
    }

    [Fact]
    public void Hot_plug_while_another_port_forwards_keeps_it_working()
    {
        using var pool = Mempool.CreatePacketPool($"hotplug_{Guid.NewGuid():N}", 512, cacheSize: 0);
        using var rt = NewRuntime();
        var main = rt.Vdev.Probe("net_null0").Ports[0];
        main.Configure(1, 1);
        main.SetupRxQueue(0, 512, pool);
        main.SetupTxQueue(0, 512);
        main.Start();
        using var stop = new ManualResetEventSlim();
        long forwarded = 0, empty = 0;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                var burst = new Mbuf[32];
                while (!stop.IsSet)
                {
                    int n = main.RxBurst(0, burst);
                    if (n == 0)
                    {
                        empty++;
                    }

                    int sent = main.TxBurst(0, burst.AsSpan(0, n));
                    Mbuf.FreeBulk(burst.AsSpan(sent, n - sent));
                    forwarded += sent;
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        worker.Start();

        for (int i = 0; i < 20; i++)
        {
            var other = rt.Vdev.Probe($"net_null{i + 1},size=100").Ports[0];
            other.Configure(1, 1);
            other.SetupRxQueue(0, 64, pool);
            other.SetupTxQueue(0, 64);
            other.Start();
            Assert.True(rt.Vdev.Remove($"net_null{i + 1}"));
        }

        SpinWait.SpinUntil(() => Volatile.Read(ref forwarded) > 10_000, TimeSpan.FromSeconds(5));
        stop.Set();
        worker.Join();

        Assert.Null(failure);
        Assert.Equal(0, empty);
        Assert.True(forwarded > 10_000);
        Assert.True(main.IsStarted);
        Assert.Equal([main], rt.Ports.All);
        Assert.Equal(forwarded, main.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull);
    }

    private sealed class SpecialDriver : IVdevDriver
    {
        public string Name => "net_null_special";

        public IReadOnlyList<string> Aliases => [];

        public string Description => "a driver whose name extends net_null's";

        public DevargsSchema Schema { get; } = new DevargsSchema("net_null_special");

        public int Probes { get; private set; }

        public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
        {
            Probes++;
            return [new NullEthDev(context.DeviceName)];
        }
    }
}
