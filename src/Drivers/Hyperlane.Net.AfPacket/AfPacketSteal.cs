using System.Globalization;
using Hyperlane.Core.Devices;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.AfPacket;

/// <summary>
/// <c>steal=1</c>: a tc filter on the interface's ingress that drops every frame, so that the port's
/// AF_PACKET sockets (ETH_P_ALL packet taps, which __netif_receive_skb_core feeds before tc ingress) are the
/// only receivers of the interface's traffic: the kernel stack and any rx_handler (hv_netvsc's on an Azure
/// VF, which would hand the frame to the NetVSC netdev and so to net_tap's remote= rule) never see it.
/// <para>
/// The filter is at priority <see cref="Priority"/> with handle <see cref="Handle"/> under ffff:fff2 (the
/// ingress qdisc's block, or clsact's ingress side). It is a u32 match-all with a gact drop action
/// (TC_ACT_SHOT); a kernel without act_gact (ENOENT / EOPNOTSUPP) gets a bpf classifier instead, the one
/// classic-BPF instruction <c>ret #TC_ACT_SHOT</c> in direct-action mode. An ingress qdisc is added when the
/// interface has none; an existing one (ingress or clsact) is used and left alone. <see cref="Remove"/>
/// takes away exactly what <see cref="Install"/> added: the filter, and the qdisc only if it was ours and
/// holds nobody else's filter. Control path only.
/// </para>
/// </summary>
internal sealed partial class AfPacketSteal
{
    /// <summary>tc priority of the drop filter (175): below tc's automatic priorities (0xc000 and down) and net_tap's remote= rules (0xf001..).</summary>
    public const ushort Priority = 0xAF;

    /// <summary>Handle of the drop filter: bpf handle 0xaf, or u32 node 0xaf (tc shows <c>fh 800::af</c>).</summary>
    public const uint Handle = 0xAF;

    /// <summary>tc parent: ffff:fff2, which the ingress qdisc and clsact both accept.</summary>
    public const uint Parent = TcParent.IngressBlock;

    public const string U32Kind = "u32";
    public const string BpfKind = "bpf";

    private readonly RtNetlink netlink;
    private readonly string device;
    private readonly string iface;
    private readonly int ifIndex;
    private readonly ILogger logger;
    private bool removed;

    private AfPacketSteal(RtNetlink netlink, string device, string iface, int ifIndex, ILogger logger, bool createdQdisc, string kind, uint filterHandle)
    {
        this.netlink = netlink;
        this.device = device;
        this.iface = iface;
        this.ifIndex = ifIndex;
        this.logger = logger;
        CreatedQdisc = createdQdisc;
        Kind = kind;
        FilterHandle = filterHandle;
    }

    /// <summary>True when the ingress qdisc was added by <see cref="Install"/> (and so is removed at close).</summary>
    public bool CreatedQdisc { get; }

    /// <summary>The classifier of the drop filter: "u32" (with gact drop) or "bpf" (direct-action, no gact).</summary>
    public string Kind { get; }

    /// <summary>The filter's handle as the kernel reports it (u32: hash table, bucket and node; bpf: 0xaf).</summary>
    public uint FilterHandle { get; }

    /// <summary>
    /// Adds the ingress qdisc (when there is none) and the drop filter on <paramref name="ifIndex"/>. Throws a
    /// <see cref="DeviceException"/> naming the step and the kernel's error; anything added so far is removed.
    /// </summary>
    public static AfPacketSteal Install(RtNetlink netlink, string device, string iface, int ifIndex, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        ArgumentNullException.ThrowIfNull(logger);
        bool created;
        try
        {
            netlink.AddQdisc(ifIndex, QdiscKind.Ingress);
            created = true;
        }
        catch (NetlinkException ex) when (ex.Error == Errno.EEXIST)
        {
            created = false; // an ingress or clsact qdisc is there: add to it, leave it at close
        }
        catch (Exception ex) when (ex is LinuxException or TimeoutException)
        {
            throw new DeviceException(device, $"steal=1: cannot add the ingress qdisc on {iface}: {Explain(ex)}", ex);
        }

        string? kind = null;
        bool free = false;
        try
        {
            if (!created)
            {
                RequireFreePriority(netlink, device, iface, ifIndex);
            }

            free = true;
            kind = AddDropFilter(netlink, device, iface, ifIndex, logger);
            uint handle = FindOurs(netlink, ifIndex, kind)
                ?? throw new DeviceException(device, $"steal=1: the ingress drop filter on {iface} was added but a dump does not show it (deleted at once by someone else?)");
            var steal = new AfPacketSteal(netlink, device, iface, ifIndex, logger, created, kind, handle);
            LogInstalled(logger, device, iface, kind, Priority, FormatHandle(kind, handle), created ? "added" : "already there, reused");
            return steal;
        }
        catch (Exception ex) when (ex is DeviceException or LinuxException or TimeoutException)
        {
            try
            {
                if (kind is not null || (free && ex is TimeoutException))
                {
                    // Added (or maybe added: no answer in time), then failed: the priority was free before, so
                    // what is there now is ours.
                    netlink.DeleteFilter(ifIndex, Parent, Priority);
                }

                if (created)
                {
                    DeleteQdiscIfEmpty(netlink, ifIndex);
                }
            }
            catch (Exception cleanup) when (cleanup is LinuxException or TimeoutException)
            {
                LogCleanupFailed(logger, device, iface, Explain(cleanup));
            }

            if (ex is DeviceException)
            {
                throw;
            }

            throw new DeviceException(device, $"steal=1: cannot add the ingress drop filter on {iface}: {Explain(ex)}", ex);
        }
    }

    /// <summary>
    /// Removes the drop filter and, when <see cref="Install"/> added the ingress qdisc and no other filter is
    /// on it now, the qdisc. Nothing else is touched. When the interface is gone (deleted, or moved to
    /// another namespace, which destroys its qdiscs) there is nothing to remove and this does not fail.
    /// Throws <see cref="LinuxException"/> or <see cref="TimeoutException"/> when the kernel refuses.
    /// </summary>
    public void Remove(bool interfaceGone)
    {
        if (removed)
        {
            return;
        }

        removed = true;
        if (interfaceGone)
        {
            LogGone(logger, device, iface);
            return;
        }

        try
        {
            bool ours = RemoveFilter(netlink, ifIndex, Kind, FilterHandle);
            if (CreatedQdisc && !DeleteQdiscIfEmpty(netlink, ifIndex))
            {
                LogQdiscKept(logger, device, iface);
            }

            LogRemoved(logger, device, iface, ours ? "removed" : "was not there any more");
        }
        catch (NetlinkException ex) when (ex.Error == Errno.ENODEV)
        {
            LogGone(logger, device, iface); // deleted since the last link event: nothing left to remove
        }
    }

    /// <summary>
    /// Deletes the drop filter <paramref name="handle"/> of <paramref name="kind"/> at <see cref="Priority"/>;
    /// false when it was not there. Alone at its priority, the whole priority goes, which also takes away the
    /// hash table u32 keeps there (deleting a u32 node by handle leaves that table behind while other u32
    /// filters share the block); with someone else's filter added at that priority since, only our handle goes.
    /// </summary>
    internal static bool RemoveFilter(RtNetlink netlink, int ifIndex, string kind, uint handle)
    {
        bool ours = false, others = false;
        foreach (FilterInfo f in netlink.DumpFilters(ifIndex, Parent))
        {
            if (f.Priority != Priority || !IsRule(f))
            {
                continue;
            }

            if (f.Kind == kind && f.Handle == handle)
            {
                ours = true;
            }
            else
            {
                others = true;
            }
        }

        if (ours && !others)
        {
            netlink.DeleteFilter(ifIndex, Parent, Priority);
        }
        else if (ours)
        {
            netlink.DeleteFilter(ifIndex, Parent, Priority, handle, kind);
        }

        return ours;
    }

    /// <summary>The full handle of the drop filter of <paramref name="kind"/> at <see cref="Priority"/>, or null.</summary>
    internal static uint? FindOurs(RtNetlink netlink, int ifIndex, string kind)
    {
        foreach (FilterInfo f in netlink.DumpFilters(ifIndex, Parent))
        {
            // u32 puts the node in the filter's own hash table: the handle is htid:0:0af.
            if (f.Priority == Priority && f.Kind == kind && IsRule(f) && (kind == U32Kind ? (f.Handle & 0xFFFFF) == Handle : f.Handle == Handle))
            {
                return f.Handle;
            }
        }

        return null;
    }

    /// <summary>"EOPNOTSUPP (Operation not supported; kernel says: ...)" for a kernel refusal, "ETIMEDOUT (...)" for a timeout.</summary>
    internal static string Explain(Exception ex) => ex switch
    {
        NetlinkException n => $"{ErrnoName(n.Error)} ({LinuxException.Describe(n.Error)}{(n.KernelMessage is { } m ? "; kernel says: " + m : string.Empty)})",
        LinuxException l => $"{ErrnoName(l.Error)} ({l.Message})",
        TimeoutException t => $"ETIMEDOUT ({t.Message})",
        _ => ex.Message,
    };

    /// <summary>The errno's name as the kernel's tc code spells it (EOPNOTSUPP, not its alias ENOTSUP).</summary>
    internal static string ErrnoName(Errno error) => error == Errno.ENOTSUP ? "EOPNOTSUPP" : error.ToString();

    /// <summary>A filter entry that classifies: not the per-priority header (handle 0) nor a u32 hash table (node 0).</summary>
    private static bool IsRule(FilterInfo f) => f.Kind == U32Kind ? (f.Handle & 0xFFF) != 0 : f.Handle != 0;

    private static string FormatHandle(string kind, uint handle) => kind == U32Kind
        ? string.Create(CultureInfo.InvariantCulture, $"{handle >> 20:x}::{handle & 0xFFF:x}")
        : string.Create(CultureInfo.InvariantCulture, $"0x{handle:x}");

    /// <summary>Refuses when anything is at our priority already: another port stealing this interface, or a leftover.</summary>
    private static void RequireFreePriority(RtNetlink netlink, string device, string iface, int ifIndex)
    {
        foreach (FilterInfo f in netlink.DumpFilters(ifIndex, Parent))
        {
            if (f.Priority == Priority)
            {
                throw new DeviceException(device, string.Create(CultureInfo.InvariantCulture,
                    $"steal=1: {iface} is already stolen: its ingress priority {Priority} holds a {f.Kind} filter (another port with steal=1 on {iface}, or one left by a process that did not close its port: 'tc filter del dev {iface} ingress pref {Priority}' removes it)"));
            }
        }
    }

    // Why the kernel refused gact, once it has (then every later probe goes straight to bpf); null until then.
    private static string? noGact;

    /// <summary>Adds u32 + gact drop, or the bpf drop filter where the kernel has no act_gact; returns the kind added.</summary>
    private static string AddDropFilter(RtNetlink netlink, string device, string iface, int ifIndex, ILogger logger)
    {
        if (Volatile.Read(ref noGact) is { } known)
        {
            // Asked before in this process: the kernel has no act_gact. Asking again would make it try to load the
            // module (a modprobe, tens to hundreds of ms) on every probe, which a VF arriving cannot afford.
            try
            {
                netlink.AddBpfDropFilter(ifIndex, Parent, Priority, Handle);
                return BpfKind;
            }
            catch (NetlinkException bpf)
            {
                throw Refused(device, iface, bpf, $"u32 + gact drop (earlier in this process): {known}; bpf ret TC_ACT_SHOT: {Explain(bpf)}");
            }
        }

        try
        {
            netlink.AddU32GactFilter(ifIndex, Parent, Priority, Handle, U32Match.All, GactAction.Drop);
            return U32Kind;
        }
        catch (NetlinkException gact) when (gact.Error is Errno.ENOENT or Errno.ENOTSUP)
        {
            LogNoGact(logger, device, iface, Explain(gact));
            Volatile.Write(ref noGact, Explain(gact));
            try
            {
                netlink.AddBpfDropFilter(ifIndex, Parent, Priority, Handle);
                return BpfKind;
            }
            catch (NetlinkException bpf)
            {
                throw Refused(device, iface, bpf, $"u32 + gact drop: {Explain(gact)}; bpf ret TC_ACT_SHOT: {Explain(bpf)}");
            }
        }
        catch (NetlinkException ex)
        {
            throw Refused(device, iface, ex, Explain(ex));
        }
    }

    private static DeviceException Refused(string device, string iface, NetlinkException ex, string detail) =>
        ex.Error == Errno.EEXIST
            ? new DeviceException(device, string.Create(CultureInfo.InvariantCulture, $"steal=1: {iface} is already stolen: a filter with priority {Priority} and handle 0x{Handle:x} is on its ingress ({detail})"), ex)
            : new DeviceException(device, $"steal=1: cannot add the ingress drop filter on {iface}: {detail}", ex);

    /// <summary>Deletes the ingress qdisc unless filters are on it; true when it is gone.</summary>
    private static bool DeleteQdiscIfEmpty(RtNetlink netlink, int ifIndex)
    {
        if (netlink.DumpFilters(ifIndex, Parent).Count != 0)
        {
            return false;
        }

        netlink.DeleteQdisc(ifIndex, QdiscKind.Ingress);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: steal=1: {Iface} ingress drops every frame after the packet taps: {Kind} filter, priority {Priority}, handle {Handle}; ingress qdisc {Qdisc}")]
    private static partial void LogInstalled(ILogger logger, string device, string iface, string kind, int priority, string handle, string qdisc);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: steal=1: no gact action on this kernel ({Error}): dropping on {Iface} with a classic-BPF direct-action filter instead")]
    private static partial void LogNoGact(ILogger logger, string device, string iface, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: steal=1: the ingress drop filter on {Iface} {Outcome}")]
    private static partial void LogRemoved(ILogger logger, string device, string iface, string outcome);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Device}: steal=1: {Iface} is gone: no filter or qdisc left to remove")]
    private static partial void LogGone(ILogger logger, string device, string iface);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: steal=1: the ingress qdisc added on {Iface} is left in place: it now holds filters that are not ours")]
    private static partial void LogQdiscKept(ILogger logger, string device, string iface);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: steal=1: cleaning up on {Iface} after a failed install failed: {Error}")]
    private static partial void LogCleanupFailed(ILogger logger, string device, string iface, string error);
}
