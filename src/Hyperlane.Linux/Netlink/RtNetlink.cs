namespace Hyperlane.Linux.Netlink;

/// <summary>
/// One NETLINK_ROUTE socket in the network namespace of the thread that creates it: links, addresses and
/// tc (qdiscs; u32 filters with mirred or gact actions; a classic-BPF drop filter). Control path;
/// thread-safe (one request at a time). Every request waits for its answer with a timeout and throws
/// <see cref="TimeoutException"/> naming it; a refusal throws <see cref="NetlinkException"/> with the errno
/// and the kernel's extended-ack text.
/// </summary>
public sealed class RtNetlink : IDisposable
{
    private const int DumpAttempts = 4;

    private readonly Lock _gate = new();
    private readonly NetlinkSocket _socket;
    private readonly List<NetlinkMessage> _messages = [];
    private byte[] _receive = new byte[64 * 1024];
    private uint _sequence;
    private long _malformed;
    private bool _disposed;

    /// <summary>Opens the socket in the calling thread's network namespace.</summary>
    /// <param name="timeout">How long each request waits for its answer; 2 s when null.</param>
    public RtNetlink(TimeSpan? timeout = null)
    {
        TimeSpan value = timeout ?? TimeSpan.FromSeconds(2);
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), value, "the request timeout must be positive and below 24 days");
        }

        Timeout = value;
        _socket = new NetlinkSocket();
        _sequence = (uint)Environment.TickCount;
    }

    private delegate void MessageHandler(ushort type, ReadOnlySpan<byte> payload);

    /// <summary>How long a request waits for its answer.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Messages the kernel sent that failed validation and were skipped.</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformed);

    // ---------------------------------------------------------------- links

    public IReadOnlyList<LinkInfo> DumpLinks()
    {
        var links = new List<LinkInfo>();
        Dump("RTM_GETLINK dump", () => Request(Nl.RTM_GETLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, 0, 0, 0), links.Clear, (type, payload) =>
        {
            if (type == Nl.RTM_NEWLINK && Count(NetlinkParser.ParseLink(payload, out LinkInfo? link, out _)) && link is not null)
            {
                links.Add(link);
            }
        });
        return links;
    }

    /// <summary>The link called <paramref name="name"/>, or null when there is none.</summary>
    public LinkInfo? GetLink(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (System.Text.Encoding.UTF8.GetByteCount(name) >= Nl.IFNAMSIZ)
        {
            throw new ArgumentException($"interface name '{name}' is longer than {Nl.IFNAMSIZ - 1} bytes", nameof(name));
        }

        NetlinkMessageBuilder request = Request(Nl.RTM_GETLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, 0, 0, 0);
        request.AttributeString(Nl.IFLA_IFNAME, name);
        return GetLink(request, $"RTM_GETLINK {name}");
    }

    /// <summary>The link with <paramref name="index"/>, or null when there is none.</summary>
    public LinkInfo? GetLink(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        return GetLink(Request(Nl.RTM_GETLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, 0, 0), $"RTM_GETLINK ifindex {index}");
    }

    public void SetLinkUp(int index, bool up) =>
        SetFlags(index, up ? LinkFlags.Up : LinkFlags.None, LinkFlags.Up, $"RTM_NEWLINK {(up ? "up" : "down")} on ifindex {index}");

    public void SetPromiscuous(int index, bool on) =>
        SetFlags(index, on ? LinkFlags.Promisc : LinkFlags.None, LinkFlags.Promisc, $"RTM_NEWLINK promisc {(on ? "on" : "off")} on ifindex {index}");

    public void SetAllMulticast(int index, bool on) =>
        SetFlags(index, on ? LinkFlags.AllMulti : LinkFlags.None, LinkFlags.AllMulti, $"RTM_NEWLINK allmulticast {(on ? "on" : "off")} on ifindex {index}");

    public void SetMtu(int index, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        NetlinkMessageBuilder request = Request(Nl.RTM_NEWLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, 0, 0);
        request.AttributeU32(Nl.IFLA_MTU, (uint)mtu);
        Execute($"RTM_NEWLINK mtu {mtu} on ifindex {index}", request, dump: false, null);
    }

    public void SetMacAddress(int index, ReadOnlySpan<byte> mac)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        if (mac.IsEmpty || mac.Length > 32)
        {
            throw new ArgumentException($"a hardware address is 1 to 32 bytes, not {mac.Length}", nameof(mac));
        }

        NetlinkMessageBuilder request = Request(Nl.RTM_NEWLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, 0, 0);
        request.Attribute(Nl.IFLA_ADDRESS, mac);
        Execute($"RTM_NEWLINK address {Convert.ToHexString(mac)} on ifindex {index}", request, dump: false, null);
    }

    /// <summary>IPv4 and IPv6 addresses, of one interface or all.</summary>
    public IReadOnlyList<AddressInfo> DumpAddresses(int? index = null)
    {
        var addresses = new List<AddressInfo>();
        Dump("RTM_GETADDR dump", () => AddressRequest(), addresses.Clear, (type, payload) =>
        {
            if (type == Nl.RTM_NEWADDR && Count(NetlinkParser.ParseAddress(payload, out AddressInfo? address)) && address is not null
                && (index is null || address.Index == index))
            {
                addresses.Add(address);
            }
        });
        return addresses;
    }

    // ---------------------------------------------------------------- tc: qdiscs

    /// <summary>
    /// Adds the ingress qdisc (handle ffff:, parent TC_H_INGRESS) or multiq (root, handle 1:), exclusively:
    /// an existing one fails with EEXIST. Throws <see cref="NetlinkException"/> (ENOENT "Specified qdisc
    /// kind is unknown", or EOPNOTSUPP for multiq on a single-queue device) where it cannot exist.
    /// </summary>
    public void AddQdisc(int index, QdiscKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        (string name, uint handle, uint parent) = Describe(kind);
        NetlinkMessageBuilder request = TcRequest(Nl.RTM_NEWQDISC, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, index, handle, parent, 0);
        request.AttributeString(Nl.TCA_KIND, name);
        if (kind == QdiscKind.Multiq)
        {
            // struct tc_multiq_qopt { u16 bands; u16 max_bands; }: zero lets the kernel use one band per tx queue.
            request.Attribute(Nl.TCA_OPTIONS, stackalloc byte[4]);
        }

        Execute($"RTM_NEWQDISC {name} on ifindex {index}", request, dump: false, null);
    }

    /// <summary>Deletes the qdisc; a missing one (ENOENT, EINVAL) is not an error (idempotent).</summary>
    public void DeleteQdisc(int index, QdiscKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        (string name, uint handle, uint parent) = Describe(kind);
        NetlinkMessageBuilder request = TcRequest(Nl.RTM_DELQDISC, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, handle, parent, 0);
        request.AttributeString(Nl.TCA_KIND, name);
        try
        {
            Execute($"RTM_DELQDISC {name} on ifindex {index}", request, dump: false, null);
        }
        catch (NetlinkException e) when (e.Error is Errno.ENOENT or Errno.EINVAL)
        {
            // Not there (or a different qdisc holds that place): nothing to delete.
        }
    }

    /// <summary>The qdiscs of one interface.</summary>
    public IReadOnlyList<QdiscInfo> DumpQdiscs(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        var qdiscs = new List<QdiscInfo>();
        Dump($"RTM_GETQDISC dump on ifindex {index}", () => TcRequest(Nl.RTM_GETQDISC, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, index, 0, 0, 0), qdiscs.Clear, (type, payload) =>
        {
            if (type == Nl.RTM_NEWQDISC && Count(NetlinkParser.ParseQdisc(payload, out QdiscInfo? qdisc)) && qdisc is not null && qdisc.Index == index)
            {
                qdiscs.Add(qdisc);
            }
        });
        return qdiscs;
    }

    /// <summary>
    /// Whether <paramref name="kind"/> can be installed on <paramref name="index"/>: true when one is
    /// already there; otherwise adds it and deletes it again. False when the kernel answers ENOENT (kind
    /// unknown) or EOPNOTSUPP (e.g. multiq on a single-queue device); other errors are thrown.
    /// </summary>
    public bool KernelSupports(int index, QdiscKind kind)
    {
        string name = Describe(kind).Name;
        foreach (QdiscInfo qdisc in DumpQdiscs(index))
        {
            if (qdisc.Kind == name)
            {
                return true;
            }
        }

        try
        {
            AddQdisc(index, kind);
        }
        catch (NetlinkException e) when (e.Error is Errno.ENOENT or Errno.ENOTSUP)
        {
            return false;
        }

        DeleteQdisc(index, kind);
        return true;
    }

    // ---------------------------------------------------------------- tc: filters

    /// <summary>
    /// Adds a u32 filter for all protocols (ETH_P_ALL) under <paramref name="parent"/> (e.g. 0xFFFF0000 for
    /// the ingress qdisc) at <paramref name="priority"/> (0: the kernel chooses) whose match sends the packet
    /// to the egress of <paramref name="targetIndex"/>: redirect (stolen) or mirror (pipe).
    /// <paramref name="handle"/> 0 lets the kernel choose. Exclusive: the same handle twice fails with EEXIST.
    /// </summary>
    public void AddU32MirredFilter(int index, uint parent, ushort priority, uint handle, U32Match match, MirredAction action, int targetIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetIndex);
        ArgumentNullException.ThrowIfNull(match);
        if (action is not (MirredAction.EgressRedirect or MirredAction.EgressMirror))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "unknown mirred action");
        }

        bool redirect = action == MirredAction.EgressRedirect;
        NetlinkMessageBuilder request = U32MirredRequest(index, parent, priority, handle, match, redirect, targetIndex);
        Execute($"RTM_NEWTFILTER u32 on ifindex {index} (parent {FormatHandle(parent)} prio {priority}, mirred {(redirect ? "redirect" : "mirror")} to ifindex {targetIndex})", request, dump: false, null);
    }

    /// <summary>
    /// Adds a u32 filter for all protocols (ETH_P_ALL) under <paramref name="parent"/> at
    /// <paramref name="priority"/> (0: the kernel chooses) whose match gets a generic action (act_gact):
    /// drop (TC_ACT_SHOT) or pass (TC_ACT_OK). <paramref name="handle"/> 0 lets the kernel choose; a u32
    /// handle names a node (the low 12 bits) in the filter's hash table. Exclusive: EEXIST for a handle in use.
    /// A kernel without act_gact answers ENOENT ("Failed to load TC action module") and keeps nothing.
    /// </summary>
    public void AddU32GactFilter(int index, uint parent, ushort priority, uint handle, U32Match match, GactAction action)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentNullException.ThrowIfNull(match);
        if (action is not (GactAction.Drop or GactAction.Pass))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "unknown gact action");
        }

        NetlinkMessageBuilder request = U32GactRequest(index, parent, priority, handle, match, action);
        Execute($"RTM_NEWTFILTER u32 on ifindex {index} (parent {FormatHandle(parent)} prio {priority}, gact {(action == GactAction.Drop ? "drop" : "pass")})", request, dump: false, null);
    }

    /// <summary>
    /// Adds a bpf classifier for all protocols (ETH_P_ALL) under <paramref name="parent"/> at
    /// <paramref name="priority"/> that drops every packet: the one-instruction classic BPF program
    /// <c>ret #TC_ACT_SHOT</c> in direct-action mode, whose return value is the verdict (no action module
    /// needed, no bpf() syscall: the kernel converts classic BPF itself). <c>tc</c> shows it as
    /// <c>bpf ... direct-action bytecode '1,6 0 0 2'</c>. Exclusive: EEXIST for a handle in use.
    /// </summary>
    public void AddBpfDropFilter(int index, uint parent, ushort priority, uint handle)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        NetlinkMessageBuilder request = BpfDropRequest(index, parent, priority, handle);
        Execute($"RTM_NEWTFILTER bpf on ifindex {index} (parent {FormatHandle(parent)} prio {priority}, direct-action ret TC_ACT_SHOT)", request, dump: false, null);
    }

    /// <summary>
    /// Deletes the filters at <paramref name="priority"/> under <paramref name="parent"/> (any protocol);
    /// priority 0 deletes every filter under that parent. Missing filters or qdisc are not an error.
    /// </summary>
    public void DeleteFilter(int index, uint parent, ushort priority)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        NetlinkMessageBuilder request = TcRequest(Nl.RTM_DELTFILTER, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, 0, parent, (uint)priority << 16);
        try
        {
            Execute($"RTM_DELTFILTER on ifindex {index} (parent {FormatHandle(parent)} prio {priority})", request, dump: false, null);
        }
        catch (NetlinkException e) when (e.Error is Errno.ENOENT or Errno.EINVAL)
        {
            // No filter at that priority, or no such parent qdisc: nothing to delete.
        }
    }

    /// <summary>
    /// Deletes the one filter <paramref name="handle"/> of <paramref name="kind"/> at <paramref name="priority"/>
    /// under <paramref name="parent"/>, leaving other filters at that priority. A u32 handle must be the full
    /// one a dump reports (hash table, bucket and node). When it was the last filter there, bpf removes the
    /// priority with it, but u32 keeps its (then empty) hash table at that priority while other u32 filters
    /// share the block: delete the priority itself to remove that. A missing filter (ENOENT), another kind
    /// at that priority or no such parent qdisc (EINVAL) is not an error.
    /// </summary>
    public void DeleteFilter(int index, uint parent, ushort priority, uint handle, string kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentOutOfRangeException.ThrowIfZero(priority);
        ArgumentOutOfRangeException.ThrowIfZero(handle);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        NetlinkMessageBuilder request = TcRequest(Nl.RTM_DELTFILTER, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, handle, parent, (uint)priority << 16);
        request.AttributeString(Nl.TCA_KIND, kind);
        try
        {
            Execute($"RTM_DELTFILTER {kind} on ifindex {index} (parent {FormatHandle(parent)} prio {priority} handle 0x{handle:x})", request, dump: false, null);
        }
        catch (NetlinkException e) when (e.Error is Errno.ENOENT or Errno.EINVAL)
        {
            // Not there (or something else holds that priority): nothing of ours to delete.
        }
    }

    /// <summary>The filters of one interface under <paramref name="parent"/> (u32 also lists its hash tables).</summary>
    public IReadOnlyList<FilterInfo> DumpFilters(int index, uint parent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        var filters = new List<FilterInfo>();
        Dump($"RTM_GETTFILTER dump on ifindex {index} parent {FormatHandle(parent)}", () => TcRequest(Nl.RTM_GETTFILTER, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, index, 0, parent, 0), filters.Clear, (type, payload) =>
        {
            if (type == Nl.RTM_NEWTFILTER && Count(NetlinkParser.ParseFilter(payload, out FilterInfo? filter)) && filter is not null && filter.Index == index)
            {
                filters.Add(filter);
            }
        });
        return filters;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _socket.Dispose();
        }
    }

    // ---------------------------------------------------------------- plumbing

    internal static byte[] U32Selector(U32Match match)
    {
        IReadOnlyList<(uint Value, uint Mask, int Offset)> keys = match.Keys;
        var selector = new byte[Nl.U32SelSize + (keys.Count * Nl.U32KeySize)];
        // struct tc_u32_sel: u8 flags, u8 offshift, u8 nkeys, pad, be16 offmask, u16 off, s16 offoff, s16 hoff, be32 hmask
        selector[0] = Nl.TC_U32_TERMINAL;
        selector[2] = (byte)keys.Count;
        for (int i = 0; i < keys.Count; i++)
        {
            // struct tc_u32_key: be32 mask, be32 val, int off, int offmask
            Span<byte> key = selector.AsSpan(Nl.U32SelSize + (i * Nl.U32KeySize), Nl.U32KeySize);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(key, keys[i].Mask);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(key[4..], keys[i].Value & keys[i].Mask);
            NetlinkMessageBuilder.WriteNativeI32(key[8..], keys[i].Offset);
        }

        return selector;
    }

    internal static NetlinkMessageBuilder U32MirredRequest(int index, uint parent, ushort priority, uint handle, U32Match match, bool redirect, int targetIndex)
    {
        NetlinkMessageBuilder request = NewFilterRequest(index, parent, priority, handle, "u32");
        int options = request.BeginNested(Nl.TCA_OPTIONS);
        request.Attribute(Nl.TCA_U32_SEL, U32Selector(match));
        int actions = request.BeginNested(Nl.TCA_U32_ACT);
        int first = request.BeginNested(1); // action order 1
        request.AttributeString(Nl.TCA_ACT_KIND, "mirred");
        int actionOptions = request.BeginNested(Nl.TCA_ACT_OPTIONS);
        Span<byte> parms = stackalloc byte[Nl.TcMirredSize];
        parms.Clear();
        // struct tc_mirred: u32 index, u32 capab, int action, int refcnt, int bindcnt, int eaction, u32 ifindex
        NetlinkMessageBuilder.WriteNativeI32(parms[8..], redirect ? Nl.TC_ACT_STOLEN : Nl.TC_ACT_PIPE);
        NetlinkMessageBuilder.WriteNativeI32(parms[20..], redirect ? Nl.TCA_EGRESS_REDIR : Nl.TCA_EGRESS_MIRROR);
        NetlinkMessageBuilder.WriteNativeU32(parms[24..], (uint)targetIndex);
        request.Attribute(Nl.TCA_MIRRED_PARMS, parms);
        request.EndNested(actionOptions);
        request.EndNested(first);
        request.EndNested(actions);
        request.EndNested(options);
        return request;
    }

    internal static NetlinkMessageBuilder U32GactRequest(int index, uint parent, ushort priority, uint handle, U32Match match, GactAction action)
    {
        NetlinkMessageBuilder request = NewFilterRequest(index, parent, priority, handle, "u32");
        int options = request.BeginNested(Nl.TCA_OPTIONS);
        request.Attribute(Nl.TCA_U32_SEL, U32Selector(match));
        int actions = request.BeginNested(Nl.TCA_U32_ACT);
        int first = request.BeginNested(1); // action order 1
        request.AttributeString(Nl.TCA_ACT_KIND, "gact");
        int actionOptions = request.BeginNested(Nl.TCA_ACT_OPTIONS);
        Span<byte> parms = stackalloc byte[Nl.TcGactSize];
        parms.Clear();
        // struct tc_gact: u32 index (0: the kernel numbers it), u32 capab, int action, int refcnt, int bindcnt
        NetlinkMessageBuilder.WriteNativeI32(parms[8..], action == GactAction.Drop ? Nl.TC_ACT_SHOT : Nl.TC_ACT_OK);
        request.Attribute(Nl.TCA_GACT_PARMS, parms);
        request.EndNested(actionOptions);
        request.EndNested(first);
        request.EndNested(actions);
        request.EndNested(options);
        return request;
    }

    internal static NetlinkMessageBuilder BpfDropRequest(int index, uint parent, ushort priority, uint handle)
    {
        NetlinkMessageBuilder request = NewFilterRequest(index, parent, priority, handle, "bpf");
        int options = request.BeginNested(Nl.TCA_OPTIONS);
        Span<byte> length = stackalloc byte[2];
        NetlinkMessageBuilder.WriteNativeU16(length, 1);
        request.Attribute(Nl.TCA_BPF_OPS_LEN, length); // u16: number of instructions
        Span<byte> program = stackalloc byte[Nl.SockFilterSize];
        program.Clear();
        // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }: BPF_RET | BPF_K, k = TC_ACT_SHOT
        NetlinkMessageBuilder.WriteNativeU16(program, Nl.BPF_RET_K);
        NetlinkMessageBuilder.WriteNativeU32(program[4..], Nl.TC_ACT_SHOT);
        request.Attribute(Nl.TCA_BPF_OPS, program);
        request.AttributeU32(Nl.TCA_BPF_FLAGS, Nl.TCA_BPF_FLAG_ACT_DIRECT); // the return value is the verdict
        request.EndNested(options);
        return request;
    }

    private static (string Name, uint Handle, uint Parent) Describe(QdiscKind kind) => kind switch
    {
        QdiscKind.Ingress => ("ingress", Nl.IngressHandle, Nl.TC_H_INGRESS),
        QdiscKind.Multiq => ("multiq", Nl.MultiqHandle, Nl.TC_H_ROOT),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown qdisc kind"),
    };

    private static uint NetworkOrder(ushort value) =>
        BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value) : value;

    /// <summary>A tc handle as tc prints it: "root", "ingress", "ffff:" or "1:2".</summary>
    internal static string FormatHandle(uint handle)
    {
        if (handle == Nl.TC_H_ROOT)
        {
            return "root";
        }

        if (handle == Nl.TC_H_INGRESS)
        {
            return "ingress";
        }

        uint minor = handle & 0xFFFF;
        return minor == 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{handle >> 16:x}:")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{handle >> 16:x}:{minor:x}");
    }

    private static NetlinkMessageBuilder Request(ushort type, ushort flags, int index, uint ifiFlags, uint change)
    {
        var builder = new NetlinkMessageBuilder(type, flags);
        // struct ifinfomsg: u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change
        Span<byte> header = builder.Reserve(Nl.IfInfoMsgSize);
        NetlinkMessageBuilder.WriteNativeI32(header[4..], index);
        NetlinkMessageBuilder.WriteNativeU32(header[8..], ifiFlags);
        NetlinkMessageBuilder.WriteNativeU32(header[12..], change);
        return builder;
    }

    private static NetlinkMessageBuilder AddressRequest()
    {
        var builder = new NetlinkMessageBuilder(Nl.RTM_GETADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP);
        builder.Reserve(Nl.IfAddrMsgSize); // family AF_UNSPEC: IPv4 and IPv6
        return builder;
    }

    private static NetlinkMessageBuilder TcRequest(ushort type, ushort flags, int index, uint handle, uint parent, uint info)
    {
        var builder = new NetlinkMessageBuilder(type, flags);
        // struct tcmsg: u8 family, u8 pad1, u16 pad2, i32 ifindex, u32 handle, u32 parent, u32 info
        Span<byte> header = builder.Reserve(Nl.TcMsgSize);
        NetlinkMessageBuilder.WriteNativeI32(header[4..], index);
        NetlinkMessageBuilder.WriteNativeU32(header[8..], handle);
        NetlinkMessageBuilder.WriteNativeU32(header[12..], parent);
        NetlinkMessageBuilder.WriteNativeU32(header[16..], info);
        return builder;
    }

    /// <summary>An exclusive RTM_NEWTFILTER of <paramref name="kind"/> for all protocols (ETH_P_ALL).</summary>
    private static NetlinkMessageBuilder NewFilterRequest(int index, uint parent, ushort priority, uint handle, string kind)
    {
        uint info = ((uint)priority << 16) | NetworkOrder(Nl.ETH_P_ALL);
        NetlinkMessageBuilder request = TcRequest(Nl.RTM_NEWTFILTER, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, index, handle, parent, info);
        request.AttributeString(Nl.TCA_KIND, kind);
        return request;
    }

    private void SetFlags(int index, LinkFlags flags, LinkFlags mask, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        // ifi_change limits the update to the bits in mask, so the other flags stay as they are.
        Execute(name, Request(Nl.RTM_NEWLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, index, (uint)flags, (uint)mask), dump: false, null);
    }

    private LinkInfo? GetLink(NetlinkMessageBuilder request, string name)
    {
        LinkInfo? found = null;
        try
        {
            Execute(name, request, dump: false, (type, payload) =>
            {
                if (type == Nl.RTM_NEWLINK && Count(NetlinkParser.ParseLink(payload, out LinkInfo? link, out _)))
                {
                    found = link;
                }
            });
        }
        catch (NetlinkException e) when (e.Error == Errno.ENODEV)
        {
            return null;
        }

        return found;
    }

    /// <summary>Counts a malformed parse; true when the message parsed.</summary>
    private bool Count(NetlinkParseStatus status)
    {
        if (status == NetlinkParseStatus.Malformed)
        {
            Interlocked.Increment(ref _malformed);
        }

        return status == NetlinkParseStatus.Ok;
    }

    /// <summary>Runs a dump, starting over (after <paramref name="reset"/>) when the kernel flags it inconsistent.</summary>
    private void Dump(string name, Func<NetlinkMessageBuilder> build, Action reset, MessageHandler handler)
    {
        for (int attempt = 1; ; attempt++)
        {
            reset();
            bool interrupted = Execute(name, build(), dump: true, handler);
            if (!interrupted)
            {
                return;
            }

            if (attempt == DumpAttempts)
            {
                throw new NetlinkException(name, Errno.EINTR, $"the dump changed while it was read, {DumpAttempts} times");
            }
        }
    }

    /// <summary>
    /// Sends one request and reads until its answer is complete: the ACK (or NLMSG_DONE for a dump).
    /// Messages of other sequence numbers (answers to requests that timed out) are dropped.
    /// </summary>
    /// <returns>True when a dump answer was flagged NLM_F_DUMP_INTR.</returns>
    private bool Execute(string name, NetlinkMessageBuilder request, bool dump, MessageHandler? handler)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            uint sequence = unchecked(++_sequence);
            if (sequence == 0)
            {
                sequence = ++_sequence;
            }

            _socket.Send(request.Finish(sequence), name);
            long deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
            bool interrupted = false;
            while (true)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0 || !_socket.WaitReadable((int)remaining))
                {
                    if (Environment.TickCount64 < deadline)
                    {
                        continue; // EINTR
                    }

                    throw new TimeoutException($"{name}: no answer from the kernel within {Timeout.TotalMilliseconds:0} ms");
                }

                SysResult r = _socket.Receive(ref _receive);
                if (!r.IsSuccess)
                {
                    if (r.Error is Errno.EAGAIN or Errno.EINTR)
                    {
                        continue;
                    }

                    throw new LinuxException($"recv ({name})", r.Error);
                }

                ReadOnlySpan<byte> datagram = _receive.AsSpan(0, (int)r.Value);
                _messages.Clear();
                Interlocked.Add(ref _malformed, NetlinkParser.Split(datagram, _messages));
                foreach (NetlinkMessage message in _messages)
                {
                    if (message.Sequence != sequence || message.PortId != _socket.PortId)
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> payload = message.Payload(datagram);
                    switch (message.Type)
                    {
                        case Nl.NLMSG_ERROR:
                            if (!Count(NetlinkParser.ParseError(payload, message.Flags, out int error, out string? text, out bool tlvMalformed)))
                            {
                                continue;
                            }

                            if (tlvMalformed)
                            {
                                Interlocked.Increment(ref _malformed);
                            }

                            if (error != 0)
                            {
                                throw new NetlinkException(name, (Errno)(-error), text);
                            }

                            if (!dump)
                            {
                                return false;
                            }

                            continue;
                        case Nl.NLMSG_DONE:
                            if (!dump || !Count(NetlinkParser.ParseDone(payload, out int doneError)))
                            {
                                continue;
                            }

                            if (doneError != 0)
                            {
                                throw new NetlinkException(name, (Errno)(-doneError), null);
                            }

                            return interrupted || (message.Flags & Nl.NLM_F_DUMP_INTR) != 0;
                        case Nl.NLMSG_NOOP or Nl.NLMSG_OVERRUN:
                            continue;
                        default:
                            interrupted |= (message.Flags & Nl.NLM_F_DUMP_INTR) != 0;
                            handler?.Invoke(message.Type, payload);
                            continue;
                    }
                }
            }
        }
    }
}
