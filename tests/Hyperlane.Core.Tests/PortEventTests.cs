using Hyperlane.Core.Ports;

namespace Hyperlane.Core.Tests;

public class PortEventTests
{
    [Fact]
    public void The_registry_raises_new_on_register_and_destroy_on_close()
    {
        using var rt = new HyperlaneRuntime();
        var seen = new List<(object? Sender, EthDevEventArgs Args)>();
        rt.Ports.EventRaised += (s, e) => seen.Add((s, e));
        var dev = new TestEthDev("ev0");

        rt.Ports.Register(dev);
        Assert.Single(seen);
        Assert.Equal(EthDevEventType.New, seen[0].Args.Type);
        Assert.Equal(0, seen[0].Args.PortId);
        Assert.Equal("ev0", seen[0].Args.PortName);
        Assert.Same(rt.Ports, seen[0].Sender);

        dev.Close();
        Assert.Equal(2, seen.Count);
        Assert.Equal(EthDevEventType.Destroy, seen[1].Args.Type);
        Assert.Equal(0, seen[1].Args.PortId);
        Assert.Equal("port 0 (ev0): Destroy", seen[1].Args.ToString());

        dev.Close(); // already closed: no second Destroy
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void A_driver_link_change_reaches_the_port_and_the_registry()
    {
        using var rt = new HyperlaneRuntime();
        var dev = new TestEthDev("ev0");
        var other = new TestEthDev("ev1");
        rt.Ports.Register(other);
        rt.Ports.Register(dev);
        var onPort = new List<EthDevEventArgs>();
        var onRegistry = new List<(object? Sender, EthDevEventArgs Args)>();
        var onOther = new List<EthDevEventArgs>();
        dev.EventRaised += (_, e) => onPort.Add(e);
        other.EventRaised += (_, e) => onOther.Add(e);
        rt.Ports.EventRaised += (s, e) => onRegistry.Add((s, e));

        dev.RaiseLinkChange(up: false);
        dev.RaiseRemoval("device unplugged");

        Assert.Equal([EthDevEventType.LinkStatusChange, EthDevEventType.Removal], onPort.Select(e => e.Type));
        Assert.Equal(1, onPort[0].PortId);
        Assert.Equal("ev0", onPort[0].PortName);
        Assert.Equal("link down", onPort[0].Detail);
        Assert.Equal("port 1 (ev0): Removal: device unplugged", onPort[1].ToString());
        Assert.Equal(onPort, onRegistry.Select(r => r.Args));
        Assert.All(onRegistry, r => Assert.Same(dev, r.Sender));
        Assert.Empty(onOther);
    }

    [Fact]
    public void Events_of_a_closed_port_are_no_longer_forwarded()
    {
        using var rt = new HyperlaneRuntime();
        var dev = new TestEthDev("ev0");
        rt.Ports.Register(dev);
        var onRegistry = new List<EthDevEventArgs>();
        rt.Ports.EventRaised += (_, e) => onRegistry.Add(e);

        dev.Close();
        dev.RaiseLinkChange(up: true);

        Assert.Equal([EthDevEventType.Destroy], onRegistry.Select(e => e.Type));
    }
}
