using Hyperlane.Linux.Netlink;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests.Netlink;

public class RtNetlinkTcTests
{
    private const uint IngressParent = 0xFFFF0000;
    private const ushort TestEtherType = 0x88B5; // IEEE local experimental
    private static readonly byte[] MacA = [0x02, 0x00, 0x00, 0x00, 0x0A, 0x01];
    private static readonly byte[] MacB = [0x02, 0x00, 0x00, 0x00, 0x0B, 0x01];
    private static readonly byte[] Broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(300);

    [SkippableFact]
    public void Ingress_qdisc_add_dump_delete_is_idempotent_on_delete()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int index = ns.IfIndex(a);

        Assert.True(rt.KernelSupports(index, QdiscKind.Ingress));
        Assert.DoesNotContain(rt.DumpQdiscs(index), q => q.Kind == "ingress"); // the probe cleaned up

        rt.AddQdisc(index, QdiscKind.Ingress);
        var ingress = Assert.Single(rt.DumpQdiscs(index), q => q.Kind == "ingress");
        Assert.Equal(new QdiscInfo(index, "ingress", 0xFFFF0000, 0xFFFFFFF1), ingress);
        Assert.Contains("qdisc ingress ffff:", IpCommand.Exec("tc", "-n", ns.Name, "qdisc", "show", "dev", a), StringComparison.Ordinal);

        var again = Assert.Throws<NetlinkException>(() => rt.AddQdisc(index, QdiscKind.Ingress));
        Assert.Equal(Errno.EEXIST, again.Error);
        Assert.Contains($"RTM_NEWQDISC ingress on ifindex {index} failed: EEXIST", again.Message, StringComparison.Ordinal);

        rt.DeleteQdisc(index, QdiscKind.Ingress);
        Assert.DoesNotContain(rt.DumpQdiscs(index), q => q.Kind == "ingress");
        rt.DeleteQdisc(index, QdiscKind.Ingress); // idempotent
        rt.DeleteQdisc(index, QdiscKind.Multiq);
        Assert.Equal(0, rt.MalformedMessages);
    }

    [SkippableFact]
    public void Multiq_fails_with_a_NetlinkException_naming_request_and_errno_where_missing()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int index = ns.IfIndex(a);

        bool supported = rt.KernelSupports(index, QdiscKind.Multiq);
        try
        {
            rt.AddQdisc(index, QdiscKind.Multiq);
            Assert.True(supported);
            Assert.Contains(rt.DumpQdiscs(index), q => q.Kind == "multiq" && q.Handle == 0x00010000 && q.Parent == 0xFFFFFFFF);
            rt.DeleteQdisc(index, QdiscKind.Multiq);
        }
        catch (NetlinkException e)
        {
            Assert.False(supported);
            Assert.Equal($"RTM_NEWQDISC multiq on ifindex {index}", e.Request);
            Assert.True(e.Error is Errno.ENOENT or Errno.ENOTSUP, e.Message);
            Assert.StartsWith($"RTM_NEWQDISC multiq on ifindex {index} failed: {e.Error} (", e.Message, StringComparison.Ordinal);
            if (e.KernelMessage is not null)
            {
                Assert.EndsWith($": kernel says: {e.KernelMessage}", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [SkippableFact]
    public void U32_redirect_steals_matching_frames_to_another_port_until_deleted()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:00:0a:01", macB: "02:00:00:00:0b:01");
        var (c, d) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int bIndex = ns.IfIndex(b), cIndex = ns.IfIndex(c);
        rt.AddQdisc(bIndex, QdiscKind.Ingress);
        rt.AddU32MirredFilter(bIndex, IngressParent, 10, 0, U32Match.DestinationMac(MacB), MirredAction.EgressRedirect, cIndex);

        var filters = rt.DumpFilters(bIndex, IngressParent);
        Assert.NotEmpty(filters);
        Assert.All(filters, f => Assert.Equal(("u32", (ushort)10, bIndex), (f.Kind, f.Priority, f.Index)));
        Assert.Contains(filters, f => f.Handle == 0x80000800); // the first node in hash table 800:
        string tc = IpCommand.Exec("tc", "-n", ns.Name, "filter", "show", "dev", b, "ingress");
        Assert.True(tc.Contains("mirred (Egress Redirect to device " + c + ") stolen", StringComparison.Ordinal), tc);
        Assert.True(tc.Contains("match 02000000/ffffffff at -14", StringComparison.Ordinal), tc);
        Assert.True(tc.Contains("match 0b010000/ffff0000 at -10", StringComparison.Ordinal), tc);

        using var portA = KernelPort.Open(ns, a);
        using var portD = KernelPort.Open(ns, d);
        using var stackB = ProtocolPort.Open(ns, b, TestEtherType);
        using var tapB = KernelPort.Open(ns, b);

        byte[] toB = Frame(MacB, 1);
        portA.Send(toB);
        Assert.Equal(1, portD.CountReceived(Window, f => IsFrame(f, 1)));
        Assert.Equal(0, stackB.Count(TimeSpan.FromMilliseconds(50), f => IsFrame(f, 1)));
        // An ETH_P_ALL tap is fed before tc ingress (__netif_receive_skb_core), so it still sees the stolen frame.
        Assert.Equal(1, tapB.CountReceived(TimeSpan.FromMilliseconds(50), f => IsFrame(f, 1)));

        // Another destination does not match: it goes up b's stack and not to d.
        byte[] other = Frame([0x02, 0, 0, 0, 0x0B, 0x02], 2);
        portA.Send(other);
        Assert.Equal(1, stackB.Count(Window, f => IsFrame(f, 2)));
        Assert.Equal(0, portD.CountReceived(TimeSpan.FromMilliseconds(50), f => IsFrame(f, 2)));

        rt.DeleteFilter(bIndex, IngressParent, 10);
        Assert.Empty(rt.DumpFilters(bIndex, IngressParent));
        rt.DeleteFilter(bIndex, IngressParent, 10); // idempotent
        portA.Send(Frame(MacB, 3));
        Assert.Equal(1, stackB.Count(Window, f => IsFrame(f, 3)));
        Assert.Equal(0, portD.CountReceived(TimeSpan.FromMilliseconds(50), f => IsFrame(f, 3)));
        Assert.Equal(0, rt.MalformedMessages);
    }

    [SkippableFact]
    public void U32_mirror_copies_broadcast_and_the_original_still_goes_up_the_stack()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:00:0a:01", macB: "02:00:00:00:0b:01");
        var (c, d) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int bIndex = ns.IfIndex(b), cIndex = ns.IfIndex(c);
        rt.AddQdisc(bIndex, QdiscKind.Ingress);
        rt.AddU32MirredFilter(bIndex, IngressParent, 0xfff - 3, 0, U32Match.DestinationMac(Broadcast), MirredAction.EgressMirror, cIndex);
        rt.AddU32MirredFilter(bIndex, IngressParent, 0xfff - 2, 0, U32Match.DestinationMac([0x33, 0x33, 0, 0, 0, 0], [0xff, 0xff, 0, 0, 0, 0]), MirredAction.EgressMirror, cIndex);
        Assert.Contains("mirred (Egress Mirror to device " + c + ")", IpCommand.Exec("tc", "-n", ns.Name, "filter", "show", "dev", b, "ingress"), StringComparison.Ordinal);

        using var portA = KernelPort.Open(ns, a);
        using var portD = KernelPort.Open(ns, d);
        using var stackB = ProtocolPort.Open(ns, b, TestEtherType);

        portA.Send(Frame(Broadcast, 1));
        Assert.Equal(1, portD.CountReceived(Window, f => IsFrame(f, 1)));
        Assert.Equal(1, stackB.Count(Window, f => IsFrame(f, 1)));

        portA.Send(Frame([0x33, 0x33, 0, 0, 0, 0x16], 2));
        Assert.Equal(1, portD.CountReceived(Window, f => IsFrame(f, 2)));

        portA.Send(Frame(MacB, 3)); // unicast: no rule, not copied
        Assert.Equal(0, portD.CountReceived(TimeSpan.FromMilliseconds(100), f => IsFrame(f, 3)));
    }

    [SkippableFact]
    public void Filter_errors_carry_errno_and_the_kernels_message()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int aIndex = ns.IfIndex(a), bIndex = ns.IfIndex(b);

        var missingDevice = Assert.Throws<NetlinkException>(() =>
            rt.AddU32MirredFilter(0x7FFF_FFF0, IngressParent, 1, 0, U32Match.All, MirredAction.EgressRedirect, bIndex));
        Assert.True(missingDevice.Error is Errno.ENODEV or Errno.EINVAL, missingDevice.Message);
        Assert.StartsWith($"RTM_NEWTFILTER u32 on ifindex {0x7FFF_FFF0}", missingDevice.Message, StringComparison.Ordinal);

        // No ingress qdisc on a: the kernel explains.
        var noQdisc = Assert.Throws<NetlinkException>(() =>
            rt.AddU32MirredFilter(aIndex, IngressParent, 1, 0, U32Match.All, MirredAction.EgressRedirect, bIndex));
        Assert.Equal(Errno.EINVAL, noQdisc.Error);
        Assert.NotNull(noQdisc.KernelMessage);
        Assert.Contains("kernel says: " + noQdisc.KernelMessage, noQdisc.Message, StringComparison.Ordinal);
        Assert.Contains("failed: EINVAL (", noQdisc.Message, StringComparison.Ordinal);

        // The same handle twice: exclusive create.
        rt.AddQdisc(aIndex, QdiscKind.Ingress);
        rt.AddU32MirredFilter(aIndex, IngressParent, 5, 0x80000801, U32Match.All, MirredAction.EgressMirror, bIndex);
        var twice = Assert.Throws<NetlinkException>(() =>
            rt.AddU32MirredFilter(aIndex, IngressParent, 5, 0x80000801, U32Match.All, MirredAction.EgressMirror, bIndex));
        Assert.Equal(Errno.EEXIST, twice.Error);
        Assert.Contains(rt.DumpFilters(aIndex, IngressParent), f => f.Handle == 0x80000801 && f.Priority == 5);

        rt.DeleteFilter(aIndex, IngressParent, 5);
        rt.DeleteQdisc(aIndex, QdiscKind.Ingress);
        rt.DeleteFilter(aIndex, IngressParent, 5); // no qdisc any more: still no exception
    }

    private static byte[] Frame(byte[] destination, byte marker)
    {
        var frame = new byte[60];
        destination.CopyTo(frame, 0);
        MacA.CopyTo(frame, 6);
        frame[12] = TestEtherType >> 8;
        frame[13] = TestEtherType & 0xFF;
        "HLNL"u8.CopyTo(frame.AsSpan(14));
        frame[18] = marker;
        return frame;
    }

    private static bool IsFrame(byte[] frame, byte marker) =>
        frame.Length >= 19 && frame[12] == TestEtherType >> 8 && frame[13] == (TestEtherType & 0xFF) && frame.AsSpan(14, 4).SequenceEqual("HLNL"u8) && frame[18] == marker;
}
