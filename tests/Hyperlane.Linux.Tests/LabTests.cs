using Hyperlane.Linux;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests;

/// <summary>The namespace lab itself: isolation, traffic on veths, and nothing left behind.</summary>
public class LabTests
{
    [SkippableFact]
    public void A_namespace_is_isolated_and_removed_on_dispose()
    {
        Requires.NetNamespaces();
        string name;
        string a;
        using (var ns = NetNamespace.Create())
        {
            name = ns.Name;
            (a, _) = ns.AddVethPair();
            Assert.True(ns.LinkExists(a));
            Assert.False(Syscalls.InterfaceIndex(a).IsSuccess, "the veth must not be visible outside the namespace");
            Assert.True(ns.Run(() => Syscalls.InterfaceIndex("lo").IsSuccess));
        }

        Assert.DoesNotContain(name, IpCommand.Run("netns", "list"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Kernel_ports_exchange_frames_over_a_veth_pair()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var macA = MacAddress.Parse("02:00:00:cc:00:01");
        var macB = MacAddress.Parse("02:00:00:cc:00:02");
        var (a, b) = ns.AddVethPair(macA.ToString(), macB.ToString());
        using var pa = KernelPort.Open(ns, a);
        using var pb = KernelPort.Open(ns, b);
        var frame = new byte[128];
        PacketBuilder.Udp4(frame, macA, macB, TestPmdDefaults.SourceIp, TestPmdDefaults.DestinationIp, 9, 9, frame.Length);
        pb.Drain();
        pa.Send(frame);
        var got = pb.Receive(TimeSpan.FromSeconds(2));
        Assert.NotNull(got);
        Assert.Equal(frame, got);
        Assert.Null(pa.Receive(TimeSpan.FromMilliseconds(50))); // our own send is not received back
        var (rx, _, _, _) = ns.Counters(b);
        Assert.True(rx >= 1);
    }

    [Fact]
    public void Unique_interface_names_fit_the_kernel_limit()
    {
        var names = Enumerable.Range(0, 1000).Select(_ => NetNamespace.UniqueIfName("hva")).ToList();
        Assert.All(names, n => Assert.InRange(n.Length, 1, 15));
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.InRange(NetNamespace.UniqueIfName("averyverylongprefix").Length, 1, 15);
    }

    [SkippableFact]
    public void Run_propagates_exceptions_and_results()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        Assert.Equal(42, ns.Run(() => 42));
        var ex = Assert.Throws<InvalidOperationException>(() => ns.Run(() => throw new InvalidOperationException("inside")));
        Assert.Equal("inside", ex.Message);
    }

    [SkippableFact]
    public void Taps_addresses_and_routes_are_made_inside_the_namespace()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var ns = NetNamespace.Create();
        string tap = ns.AddTap("02:00:00:cc:00:09");
        var (a, _) = ns.AddVethPair();
        ns.AddAddress(a, "192.0.2.1/24");
        ns.AddRoute("198.51.100.0/24", via: "192.0.2.2");
        Assert.True(ns.LinkExists(tap));
        Assert.False(Syscalls.InterfaceIndex(tap).IsSuccess);
        Assert.Contains("192.0.2.1/24", ns.Ip("-o", "addr", "show", "dev", a), StringComparison.Ordinal);
        Assert.Contains("198.51.100.0/24 via 192.0.2.2", ns.Ip("route", "show"), StringComparison.Ordinal);
    }
}
