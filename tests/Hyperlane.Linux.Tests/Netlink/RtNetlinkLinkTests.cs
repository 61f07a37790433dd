using System.Text.Json;
using Hyperlane.Linux.Netlink;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests.Netlink;

public class RtNetlinkLinkTests
{
    private static readonly byte[] MacA = [0x02, 0x11, 0x22, 0x33, 0x44, 0x01];
    private static readonly byte[] MacB = [0x02, 0x11, 0x22, 0x33, 0x44, 0x02];

    [SkippableFact]
    public void DumpLinks_and_GetLink_report_veths_with_kind_mac_mtu_and_flags()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:11:22:33:44:01", macB: "02:11:22:33:44:02");
        using var rt = ns.Run(() => new RtNetlink());
        // Carrier and operstate follow "up" asynchronously (linkwatch): wait for them.
        var settle = System.Diagnostics.Stopwatch.StartNew();
        while (rt.GetLink(a) is not { OperState: 6, HasCarrier: true } && settle.Elapsed < TimeSpan.FromSeconds(3))
        {
            Thread.Sleep(20);
        }

        var links = rt.DumpLinks();
        var lo = Assert.Single(links, l => l.Name == "lo");
        Assert.Equal(LinkFlags.Loopback, lo.Flags & LinkFlags.Loopback);
        var la = Assert.Single(links, l => l.Name == a);
        var lb = Assert.Single(links, l => l.Name == b);
        Assert.Equal("veth", la.Kind);
        Assert.Equal("veth", lb.Kind);
        Assert.Equal(MacA, la.Address);
        Assert.Equal(MacB, lb.Address);
        Assert.Equal(ns.IfIndex(a), la.Index);
        Assert.Equal(1500, la.Mtu);
        Assert.True(la.IsUp);
        Assert.True(la.HasCarrier);
        Assert.Null(la.MasterIndex);
        Assert.Equal(6, la.OperState); // IF_OPER_UP

        Assert.Equal(la, rt.GetLink(a));
        Assert.Equal(lb.Name, rt.GetLink(lb.Index)!.Name);
        Assert.Null(rt.GetLink("hlnosuchlink0"));
        Assert.Null(rt.GetLink(0x7FFF_FFF0));
        Assert.Equal(0, rt.MalformedMessages);
    }

    [SkippableFact]
    public void SetLinkUp_SetMtu_SetMacAddress_change_the_link()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int index = ns.IfIndex(a);

        rt.SetLinkUp(index, false);
        Assert.False(rt.GetLink(index)!.IsUp);
        Assert.Contains("DOWN", ns.Ip("link", "show", "dev", a), StringComparison.Ordinal);
        rt.SetLinkUp(index, true);
        Assert.True(rt.GetLink(index)!.IsUp);

        rt.SetMtu(index, 1400);
        Assert.Equal(1400, rt.GetLink(index)!.Mtu);
        Assert.Contains("mtu 1400", ns.Ip("link", "show", "dev", a), StringComparison.Ordinal);

        rt.SetMacAddress(index, [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE]);
        Assert.Equal(new byte[] { 0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE }, rt.GetLink(index)!.Address);
        Assert.Contains("02:aa:bb:cc:dd:ee", ns.Ip("link", "show", "dev", a), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Promiscuous_and_AllMulticast_change_only_their_flag()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int index = ns.IfIndex(a);

        rt.SetPromiscuous(index, true);
        var link = rt.GetLink(index)!;
        Assert.True(link.Promiscuous);
        Assert.True(link.IsUp); // ifi_change: the other flags are left alone
        Assert.False(link.AllMulticast);
        Assert.Contains("PROMISC", IpFlags(ns, a));

        rt.SetAllMulticast(index, true);
        link = rt.GetLink(index)!;
        Assert.True(link.AllMulticast);
        Assert.True(link.Promiscuous);
        Assert.Contains("ALLMULTI", IpFlags(ns, a));

        rt.SetPromiscuous(index, false);
        rt.SetAllMulticast(index, false);
        link = rt.GetLink(index)!;
        Assert.False(link.Promiscuous);
        Assert.False(link.AllMulticast);
        Assert.True(link.IsUp);
        Assert.DoesNotContain("PROMISC", IpFlags(ns, a));
    }

    [SkippableFact]
    public void DumpAddresses_reports_IPv4_and_IPv6()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int index = ns.IfIndex(a);
        ns.Ip("addr", "add", "192.0.2.1/24", "dev", a);
        ns.Ip("addr", "add", "198.51.100.7/30", "dev", b);
        IpCommand.Run("netns", "exec", ns.Name, "sh", "-c", $"echo 0 > /proc/sys/net/ipv6/conf/{a}/disable_ipv6");
        ns.Ip("-6", "addr", "add", "2001:db8::1/64", "dev", a, "nodad");

        var mine = rt.DumpAddresses(index);
        Assert.All(mine, x => Assert.Equal(index, x.Index));
        var v4 = Assert.Single(mine, x => x.Family == 2);
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, v4.Address);
        Assert.Equal(24, v4.PrefixLength);
        var v6 = Assert.Single(mine, x => x.Family == 10 && x.Address[0] == 0x20);
        Assert.Equal(System.Net.IPAddress.Parse("2001:db8::1").GetAddressBytes(), v6.Address);
        Assert.Equal(64, v6.PrefixLength);
        Assert.Contains(mine, x => x.Family == 10 && x.Address[0] == 0xfe && x.PrefixLength == 64); // link-local

        var all = rt.DumpAddresses();
        Assert.Contains(all, x => x.Family == 2 && x.Address.SequenceEqual(new byte[] { 127, 0, 0, 1 }));
        Assert.Contains(all, x => x.Family == 2 && x.Address.SequenceEqual(new byte[] { 198, 51, 100, 7 }) && x.PrefixLength == 30);
    }

    [SkippableFact]
    public void Errors_name_the_request_errno_and_kernel_message()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var rt = ns.Run(() => new RtNetlink());
        var e = Assert.Throws<NetlinkException>(() => rt.SetMtu(0x7FFF_FFF0, 1400));
        Assert.Equal(Errno.ENODEV, e.Error);
        Assert.StartsWith($"RTM_NEWLINK mtu 1400 on ifindex {0x7FFF_FFF0} failed: ENODEV (", e.Message, StringComparison.Ordinal);
        Assert.Equal($"RTM_NEWLINK mtu 1400 on ifindex {0x7FFF_FFF0}", e.Request);
    }

    [SkippableFact]
    public void Dispose_closes_the_socket_and_later_calls_throw()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        int before = CountSockets();
        for (int i = 0; i < 20; i++)
        {
            using var rt = ns.Run(() => new RtNetlink());
            rt.DumpLinks();
        }

        for (int i = 0; i < 3; i++)
        {
            using var monitor = ns.Run(() => new LinkMonitor());
        }

        Assert.Equal(before, CountSockets());
        var disposed = ns.Run(() => new RtNetlink());
        disposed.Dispose();
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.DumpLinks());
    }

    [SkippableFact]
    public void A_request_without_an_answer_in_time_throws_TimeoutException_naming_it()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var impatient = ns.Run(() => new RtNetlink(TimeSpan.FromTicks(1)));
        var e = Assert.Throws<TimeoutException>(() => impatient.DumpLinks());
        Assert.StartsWith("RTM_GETLINK dump: no answer from the kernel within", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RtNetlink(TimeSpan.Zero));
    }

    private static List<string> IpFlags(NetNamespace ns, string ifname)
    {
        using var doc = JsonDocument.Parse(ns.Ip("-j", "link", "show", "dev", ifname));
        return [.. doc.RootElement[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString()!)];
    }

    private static int CountSockets() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(f =>
        {
            try
            {
                return new FileInfo(f).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
            }
            catch (IOException)
            {
                return false;
            }
        });
}
