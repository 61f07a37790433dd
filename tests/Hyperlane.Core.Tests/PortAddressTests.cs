using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Packets;

namespace Hyperlane.Core.Tests;

public class PortAddressTests
{
    private static readonly MacAddress Multicast = MacAddress.Parse("01:00:5e:00:00:01");
    private static readonly MacAddress Unicast1 = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress Unicast2 = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress Unicast3 = MacAddress.Parse("02:00:00:00:00:03");
    private static readonly MacAddress Unicast4 = MacAddress.Parse("02:00:00:00:00:04");

    private static TestEthDev Register(HyperlaneRuntime rt)
    {
        var dev = new TestEthDev("mac0");
        rt.Ports.Register(dev);
        return dev;
    }

    [Fact]
    public void Set_mac_refuses_multicast_broadcast_and_zero()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        var original = dev.MacAddress;

        var ex = PortAssert.Fails<EthDevException>(dev, "MAC address set", Errno.EINVAL, () => dev.SetMacAddress(Multicast));
        Assert.Equal("port 0 (mac0): MAC address set: 01:00:5E:00:00:01 is not a unicast address (EINVAL)", ex.Message);
        PortAssert.Fails<EthDevException>(dev, "MAC address set", Errno.EINVAL, () => dev.SetMacAddress(MacAddress.Zero), "00:00:00:00:00:00 is not a unicast address");
        PortAssert.Fails<EthDevException>(dev, "MAC address set", Errno.EINVAL, () => dev.SetMacAddress(MacAddress.Broadcast), "FF:FF:FF:FF:FF:FF");
        Assert.Equal(original, dev.MacAddress);
        Assert.Null(dev.DriverMac);

        dev.SetMacAddress(Unicast1);
        Assert.Equal(Unicast1, dev.MacAddress);
        Assert.Equal(Unicast1, dev.DriverMac);
    }

    [Fact]
    public void Add_mac_stops_at_the_device_limit_with_enospc()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt); // MaxMacAddresses = 4, the primary included

        dev.AddMacAddress(Unicast1);
        dev.AddMacAddress(Unicast2);
        dev.AddMacAddress(Unicast2); // already there: nothing
        dev.AddMacAddress(dev.MacAddress); // the primary: nothing
        dev.AddMacAddress(Unicast3);
        var ex = PortAssert.Fails<EthDevException>(dev, "MAC address add", Errno.ENOSPC, () => dev.AddMacAddress(Unicast4));
        Assert.Equal("port 0 (mac0): MAC address add: the port filters at most 4 MAC addresses (ENOSPC)", ex.Message);
        PortAssert.Fails<EthDevException>(dev, "MAC address add", Errno.EINVAL, () => dev.AddMacAddress(Multicast), "is not a unicast address");
        PortAssert.Fails<EthDevException>(dev, "MAC address add", Errno.EINVAL, () => dev.AddMacAddress(MacAddress.Zero), "is not a unicast address");

        Assert.Equal([Unicast1, Unicast2, Unicast3], dev.ExtraMacAddresses);
        Assert.Equal([Unicast1, Unicast2, Unicast3], dev.DriverExtraMacs);

        dev.RemoveMacAddress(Unicast2);
        dev.AddMacAddress(Unicast4);
        Assert.Equal([Unicast1, Unicast3, Unicast4], dev.ExtraMacAddresses);
    }

    [Fact]
    public void Removing_the_primary_mac_is_refused()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        dev.AddMacAddress(Unicast1);
        var primary = dev.MacAddress;

        var ex = PortAssert.Fails<EthDevException>(dev, "MAC address remove", Errno.EADDRINUSE, () => dev.RemoveMacAddress(primary));
        Assert.Contains($"{primary} is the primary address; set another one instead", ex.Message, StringComparison.Ordinal);
        Assert.Equal(primary, dev.MacAddress);

        dev.RemoveMacAddress(Unicast3); // not there: nothing
        dev.RemoveMacAddress(Unicast1);
        Assert.Empty(dev.ExtraMacAddresses);
        Assert.Empty(dev.DriverExtraMacs);
    }

    [Fact]
    public void Multicast_list_refuses_unicast_addresses_and_replaces_the_list()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        var m2 = MacAddress.Parse("33:33:00:00:00:01");

        var ex = PortAssert.Fails<EthDevException>(dev, "multicast list set", Errno.EINVAL, () => dev.SetMulticastList([Multicast, Unicast1]));
        Assert.Equal("port 0 (mac0): multicast list set: 02:00:00:00:00:01 is not a multicast address (EINVAL)", ex.Message);
        Assert.Empty(dev.MulticastAddresses);

        var list = new List<MacAddress> { Multicast, m2 };
        dev.SetMulticastList(list);
        list.Clear(); // the port keeps its own copy
        Assert.Equal([Multicast, m2], dev.MulticastAddresses);
        Assert.Equal([Multicast, m2], dev.DriverMulticast);

        dev.SetMulticastList([]);
        Assert.Empty(dev.MulticastAddresses);
    }

    [Theory]
    [InlineData(67)]
    [InlineData(9001)]
    [InlineData(-1)]
    public void Set_mtu_out_of_range_names_the_range(int mtu)
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        var ex = PortAssert.Fails<EthDevException>(dev, "MTU set", Errno.EINVAL, () => dev.SetMtu(mtu));
        Assert.Equal($"port 0 (mac0): MTU set: MTU {mtu} out of range 68..9000 (EINVAL)", ex.Message);
        Assert.Equal(1500, dev.Mtu);
        Assert.Null(dev.DriverMtu);
    }

    [Fact]
    public void Set_mtu_in_range_reaches_the_driver_in_any_state()
    {
        using var pool = TestPools.Packets("mac");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        dev.SetMtu(68);
        Assert.Equal(68, dev.Mtu);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();
        dev.SetMtu(9000);
        Assert.Equal(9000, dev.Mtu);
        Assert.Equal(9000, dev.DriverMtu);
    }

    [Fact]
    public void Promiscuous_and_all_multicast_flags_are_tracked()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        Assert.False(dev.Promiscuous);
        Assert.False(dev.AllMulticast);
        dev.EnablePromiscuous();
        Assert.True(dev.Promiscuous);
        Assert.True(dev.DriverPromiscuous);
        dev.EnableAllMulticast();
        Assert.True(dev.AllMulticast);
        Assert.True(dev.DriverAllMulticast);
        dev.DisablePromiscuous();
        Assert.False(dev.Promiscuous);
        Assert.False(dev.DriverPromiscuous);
        Assert.True(dev.AllMulticast);
        dev.DisableAllMulticast();
        Assert.False(dev.AllMulticast);
        Assert.False(dev.DriverAllMulticast);
    }
}
