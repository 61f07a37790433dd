using System.Buffers.Binary;
using Hyperlane.Linux.Netlink;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests.Netlink;

/// <summary>
/// The ingress drop filters (u32 + gact drop; bpf direct-action <c>ret #TC_ACT_SHOT</c>) and delete-by-handle:
/// the exact request bytes (struct tc_gact, struct sock_filter; linux/tc_act/tc_gact.h, linux/pkt_cls.h,
/// linux/filter.h), and their effect on a real veth: packet taps still see a dropped frame, the stack does not.
/// </summary>
public class RtNetlinkDropFilterTests
{
    private const ushort TestEtherType = 0x88B5; // IEEE local experimental
    private const ushort Priority = 0xAF;
    private static readonly byte[] MacB = [0x02, 0x00, 0x00, 0x00, 0x0B, 0x01];
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(300);

    [Fact]
    public void Gact_request_is_a_u32_filter_with_one_gact_action_and_struct_tc_gact()
    {
        byte[] message = RtNetlink.U32GactRequest(7, TcParent.IngressBlock, Priority, 0xAF, U32Match.All, GactAction.Drop).Finish(1).ToArray();
        CheckHeader(message, 7, 0xAF, 0xFFFFFFF2, Priority);

        var top = new NetlinkAttributeReader(message.AsSpan(16 + 20));
        Assert.True(top.Next(out ushort type, out ReadOnlySpan<byte> value));
        Assert.Equal((Nl.TCA_KIND, "u32"), (type, NetlinkParser.ReadString(value)));
        Assert.True(top.Next(out type, out ReadOnlySpan<byte> options));
        Assert.Equal(Nl.TCA_OPTIONS, type);
        Assert.False(top.Next(out _, out _));

        var opts = new NetlinkAttributeReader(options);
        Assert.True(opts.Next(out type, out ReadOnlySpan<byte> selector));
        Assert.Equal(Nl.TCA_U32_SEL, type);
        Assert.Equal(RtNetlink.U32Selector(U32Match.All), selector.ToArray()); // one key, mask 0: every frame
        Assert.True(opts.Next(out type, out ReadOnlySpan<byte> actions));
        Assert.Equal(Nl.TCA_U32_ACT, type);
        Assert.False(opts.Next(out _, out _));

        var acts = new NetlinkAttributeReader(actions);
        Assert.True(acts.Next(out type, out ReadOnlySpan<byte> first));
        Assert.Equal(1, type); // action order 1
        Assert.False(acts.Next(out _, out _));

        var act = new NetlinkAttributeReader(first);
        Assert.True(act.Next(out type, out value));
        Assert.Equal((Nl.TCA_ACT_KIND, "gact"), (type, NetlinkParser.ReadString(value)));
        Assert.True(act.Next(out type, out ReadOnlySpan<byte> actOptions));
        Assert.Equal(Nl.TCA_ACT_OPTIONS, type);
        Assert.False(act.Next(out _, out _));

        var gact = new NetlinkAttributeReader(actOptions);
        Assert.True(gact.Next(out type, out ReadOnlySpan<byte> parms));
        Assert.Equal(2, type); // TCA_GACT_PARMS
        Assert.Equal(20, parms.Length); // struct tc_gact { u32 index; u32 capab; int action; int refcnt; int bindcnt; }
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(parms));        // index: the kernel numbers it
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(parms[4..]));   // capab
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(parms[8..]));     // TC_ACT_SHOT
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(parms[12..]));
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(parms[16..]));
        Assert.False(gact.Next(out _, out _));

        byte[] pass = RtNetlink.U32GactRequest(7, TcParent.IngressBlock, Priority, 0, U32Match.All, GactAction.Pass).Finish(1).ToArray();
        Assert.Equal(message.Length, pass.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(pass.AsSpan(pass.Length - 12))); // TC_ACT_OK at the same place
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(message.AsSpan(message.Length - 12)));
    }

    [Fact]
    public void Bpf_drop_request_is_one_classic_instruction_ret_tc_act_shot_in_direct_action_mode()
    {
        byte[] message = RtNetlink.BpfDropRequest(9, TcParent.IngressBlock, Priority, 0xAF).Finish(1).ToArray();
        CheckHeader(message, 9, 0xAF, 0xFFFFFFF2, Priority);

        var top = new NetlinkAttributeReader(message.AsSpan(16 + 20));
        Assert.True(top.Next(out ushort type, out ReadOnlySpan<byte> value));
        Assert.Equal((Nl.TCA_KIND, "bpf"), (type, NetlinkParser.ReadString(value)));
        Assert.True(top.Next(out type, out ReadOnlySpan<byte> options));
        Assert.Equal(Nl.TCA_OPTIONS, type);
        Assert.False(top.Next(out _, out _));

        var opts = new NetlinkAttributeReader(options);
        Assert.True(opts.Next(out type, out value));
        Assert.Equal(4, type); // TCA_BPF_OPS_LEN: u16 instruction count
        Assert.Equal([1, 0], value.ToArray());
        Assert.True(opts.Next(out type, out value));
        Assert.Equal(5, type); // TCA_BPF_OPS: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
        Assert.Equal([0x06, 0, 0, 0, 2, 0, 0, 0], value.ToArray()); // BPF_RET | BPF_K, k = TC_ACT_SHOT
        Assert.True(opts.Next(out type, out value));
        Assert.Equal(8, type); // TCA_BPF_FLAGS
        Assert.Equal(1u, NetlinkParser.ReadU32(value)); // TCA_BPF_FLAG_ACT_DIRECT
        Assert.False(opts.Next(out _, out _));
        Assert.False(opts.Malformed);
    }

    [Fact]
    public void Ingress_parents_are_the_ingress_handle_and_the_clsact_ingress_block()
    {
        Assert.Equal(0xFFFF0000u, TcParent.Ingress);
        Assert.Equal(0xFFFFFFF2u, TcParent.IngressBlock);
        Assert.Equal("ffff:fff2", RtNetlink.FormatHandle(TcParent.IngressBlock));
    }

    [SkippableFact]
    public void Bpf_drop_filter_drops_after_the_taps_and_deletes_by_handle()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:00:0a:01", macB: "02:00:00:00:0b:01");
        using var rt = ns.Run(() => new RtNetlink());
        int bIndex = ns.IfIndex(b);
        rt.AddQdisc(bIndex, QdiscKind.Ingress);
        rt.AddBpfDropFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF);

        var ours = Assert.Single(rt.DumpFilters(bIndex, TcParent.IngressBlock), f => f.Handle != 0);
        Assert.Equal(new FilterInfo(bIndex, TcParent.IngressBlock, Priority, 0xAF, "bpf"), ours);
        string tc = IpCommand.Exec("tc", "-n", ns.Name, "filter", "show", "dev", b, "ingress");
        Assert.True(tc.Contains("handle 0xaf direct-action", StringComparison.Ordinal) && tc.Contains("bytecode '1,6 0 0 2'", StringComparison.Ordinal), tc);
        var twice = Assert.Throws<NetlinkException>(() => rt.AddBpfDropFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF));
        Assert.Equal(Errno.EEXIST, twice.Error);

        using var portA = KernelPort.Open(ns, a);
        using var stackB = ProtocolPort.Open(ns, b, TestEtherType);
        using var tapB = KernelPort.Open(ns, b);
        portA.Send(Frame(1));
        Assert.Equal(1, tapB.CountReceived(Window, f => IsFrame(f, 1))); // ETH_P_ALL taps come before tc ingress
        Assert.Equal(0, stackB.Count(TimeSpan.FromMilliseconds(100), f => IsFrame(f, 1)));

        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF, "u32"); // another kind at that priority: not ours, no error
        Assert.Contains(rt.DumpFilters(bIndex, TcParent.IngressBlock), f => f.Handle == 0xAF);
        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF, "bpf");
        Assert.Empty(rt.DumpFilters(bIndex, TcParent.IngressBlock)); // the last bpf filter takes its priority along
        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF, "bpf"); // idempotent
        portA.Send(Frame(2));
        Assert.Equal(1, stackB.Count(Window, f => IsFrame(f, 2)));
        Assert.Equal(0, rt.MalformedMessages);
    }

    [SkippableFact]
    public void Gact_drop_filter_drops_or_is_refused_with_ENOENT_leaving_nothing_where_act_gact_is_missing()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair(macA: "02:00:00:00:0a:01", macB: "02:00:00:00:0b:01");
        using var rt = ns.Run(() => new RtNetlink());
        int bIndex = ns.IfIndex(b);
        rt.AddQdisc(bIndex, QdiscKind.Ingress);
        try
        {
            rt.AddU32GactFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF, U32Match.All, GactAction.Drop);
        }
        catch (NetlinkException e) when (e.Error is Errno.ENOENT or Errno.ENOTSUP)
        {
            // This machine's kernel has no CONFIG_NET_ACT_GACT: the request is refused whole.
            Assert.StartsWith($"RTM_NEWTFILTER u32 on ifindex {bIndex} (parent ffff:fff2 prio 175, gact drop) failed: ", e.Message, StringComparison.Ordinal);
            Assert.Empty(rt.DumpFilters(bIndex, TcParent.IngressBlock));
            return;
        }

        // A kernel with act_gact: the node is 0xaf in the filter's own hash table.
        var ours = Assert.Single(rt.DumpFilters(bIndex, TcParent.IngressBlock), f => (f.Handle & 0xFFF) != 0);
        Assert.Equal(0xAFu, ours.Handle & 0xFFFFF);
        Assert.Contains("gact action drop", IpCommand.Exec("tc", "-n", ns.Name, "filter", "show", "dev", b, "ingress"), StringComparison.Ordinal);
        using var portA = KernelPort.Open(ns, a);
        using var stackB = ProtocolPort.Open(ns, b, TestEtherType);
        portA.Send(Frame(3));
        Assert.Equal(0, stackB.Count(Window, f => IsFrame(f, 3)));
        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority, ours.Handle, "u32");
        Assert.DoesNotContain(rt.DumpFilters(bIndex, TcParent.IngressBlock), f => (f.Handle & 0xFFF) != 0);
        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority);
        Assert.Empty(rt.DumpFilters(bIndex, TcParent.IngressBlock));
    }

    [SkippableFact]
    public void A_filter_on_the_ingress_block_works_under_clsact_where_ffff_0000_is_refused()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (_, b) = ns.AddVethPair();
        using var rt = ns.Run(() => new RtNetlink());
        int bIndex = ns.IfIndex(b);
        IpCommand.Exec("tc", "-n", ns.Name, "qdisc", "add", "dev", b, "clsact");
        Assert.Equal(Errno.EEXIST, Assert.Throws<NetlinkException>(() => rt.AddQdisc(bIndex, QdiscKind.Ingress)).Error);

        Assert.Equal(Errno.EINVAL, Assert.Throws<NetlinkException>(() => rt.AddBpfDropFilter(bIndex, TcParent.Ingress, Priority, 0xAF)).Error);
        rt.AddBpfDropFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF);
        Assert.Contains(rt.DumpFilters(bIndex, TcParent.IngressBlock), f => f.Handle == 0xAF && f.Kind == "bpf");
        rt.DeleteFilter(bIndex, TcParent.IngressBlock, Priority, 0xAF, "bpf");
        Assert.Empty(rt.DumpFilters(bIndex, TcParent.IngressBlock));
        Assert.Contains(rt.DumpQdiscs(bIndex), q => q.Kind == "clsact");
    }

    private static void CheckHeader(byte[] message, int index, uint handle, uint parent, ushort priority)
    {
        Assert.Equal((uint)message.Length, BinaryPrimitives.ReadUInt32LittleEndian(message));
        Assert.Equal(Nl.RTM_NEWTFILTER, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(4)));
        Assert.Equal(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(6)));

        // struct tcmsg: u8 family, u8 pad1, u16 pad2, i32 ifindex, u32 handle, u32 parent, u32 info (prio << 16 | be16 protocol)
        Assert.Equal(0, message[16]);
        Assert.Equal(index, BinaryPrimitives.ReadInt32LittleEndian(message.AsSpan(20)));
        Assert.Equal(handle, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(24)));
        Assert.Equal(parent, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(28)));
        Assert.Equal(priority, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(34)));
        Assert.Equal(0x0003, BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(32))); // ETH_P_ALL, network order
    }

    private static byte[] Frame(byte marker)
    {
        var frame = new byte[60];
        MacB.CopyTo(frame, 0);
        frame[6] = 0x02;
        frame[11] = 0x0A;
        frame[12] = TestEtherType >> 8;
        frame[13] = TestEtherType & 0xFF;
        "HLDF"u8.CopyTo(frame.AsSpan(14));
        frame[18] = marker;
        return frame;
    }

    private static bool IsFrame(byte[] frame, byte marker) =>
        frame.Length >= 19 && frame[12] == TestEtherType >> 8 && frame[13] == (TestEtherType & 0xFF) && frame.AsSpan(14, 4).SequenceEqual("HLDF"u8) && frame[18] == marker;
}
