using System.Globalization;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.Tap;

/// <summary>
/// The port behind <see cref="TapDriver"/> (TAP, L2) and <see cref="TunDriver"/> (TUN, L3). A keep-alive fd
/// made at probe holds the device (its queue detached, so it never takes a packet); each queue pair gets
/// its own fd (IFF_MULTI_QUEUE). The device, the netlink socket and the link monitor are created on the
/// probing thread, so they belong to its network namespace; the data path may run on any thread.
/// </summary>
public sealed partial class TapEthDev : EthDev, IKernelInterfacePort
{
    private const short TapFlags = TunInterop.IFF_TAP | TunInterop.IFF_NO_PI | TunInterop.IFF_MULTI_QUEUE | TunInterop.IFF_VNET_HDR;
    private const short TunFlags = TunInterop.IFF_TUN | TunInterop.IFF_NO_PI | TunInterop.IFF_MULTI_QUEUE | TunInterop.IFF_VNET_HDR;

    private readonly short flags;
    private readonly bool persist;
    private readonly SafeFd keepAlive;
    private readonly SafeFd netns;
    private readonly RtNetlink netlink;
    private readonly LinkMonitor monitor;
    private readonly TapPortState portState = new();
    private readonly ILogger logger;
    private readonly Lock eventLock = new();
    private TapRemote? remote;
    private SafeFd?[] queueFds = [];
    private bool lastLinkUp;
    private bool removalRaised;

    private TapEthDev(string name, string driverName, bool isTun, MacAddress mac, string ifName, int ifIndex, bool persist,
        SafeFd keepAlive, SafeFd netns, RtNetlink netlink, LinkMonitor monitor, ILogger logger)
        : base(name, driverName, mac)
    {
        IsTun = isTun;
        flags = isTun ? TunFlags : TapFlags;
        InterfaceName = ifName;
        InterfaceIndex = ifIndex;
        this.persist = persist;
        this.keepAlive = keepAlive;
        this.netns = netns;
        this.netlink = netlink;
        this.monitor = monitor;
        this.logger = logger;
    }

    /// <summary>The kernel netdev's name (dtap0, or the <c>iface</c> given).</summary>
    public string InterfaceName { get; }

    /// <summary>The kernel netdev's index in the namespace the port was probed in.</summary>
    public int InterfaceIndex { get; }

    /// <summary>True for net_tun (L3 packets, no MAC).</summary>
    public bool IsTun { get; }

    /// <summary>The remote netdev's name in remote mode, else null.</summary>
    public string? RemoteName => remote?.Name;

    /// <summary>Whether the TAP or the remote netdev was deleted under the port (bursts return 0).</summary>
    public bool IsRemoved => portState.Removed;

    /// <summary>
    /// Creates the device: TUNSETIFF on a keep-alive fd, vnet header size 12, MAC (fixed, given or random),
    /// persist, remote rules. Anything made is undone when a later step fails.
    /// </summary>
    internal static TapEthDev Create(string name, string driverName, bool isTun, string? iface, string? macArg, int portHint,
        string? remoteName, bool persist, ILogger logger)
    {
        short fl = isTun ? TunFlags : TapFlags;
        string requested = iface ?? (isTun ? "dtun%d" : "dtap%d");
        bool existed = iface is not null && Syscalls.InterfaceIndex(iface).IsSuccess;
        SafeFd? ka = null;
        SafeFd? ns = null;
        RtNetlink? nl = null;
        LinkMonitor? mon = null;
        TapRemote? rem = null;
        int createdIndex = 0;
        string createdName = requested;
        try
        {
            ns = TunInterop.OpenCurrentNetNamespace();
            ka = TunInterop.Attach(requested, fl, nonBlocking: true, out string actual);
            TunInterop.SetVnetHeaderSize(ka, VirtioNetHeader.Size);
            TunInterop.SetOffload(ka, 0);
            TunInterop.SetQueueAttached(ka, attached: false);
            if (persist)
            {
                TunInterop.SetPersist(ka, true);
            }

            int index = (int)Syscalls.InterfaceIndex(actual).ThrowIfFailed($"if_nametoindex({actual})");
            createdIndex = existed ? 0 : index;
            createdName = actual;
            nl = new RtNetlink();
            mon = new LinkMonitor();
            MacAddress mac = MacAddress.Zero;
            if (remoteName is not null)
            {
                rem = TapRemote.Setup(nl, remoteName, index, actual); // the TAP takes the remote's MAC
                mac = new MacAddress(rem.OriginalMac);
            }
            else if (!isTun)
            {
                mac = ChooseMac(macArg, portHint);
                Span<byte> b = stackalloc byte[6];
                mac.CopyTo(b);
                nl.SetMacAddress(index, b);
            }

            var dev = new TapEthDev(name, driverName, isTun, mac, actual, index, persist, ka, ns, nl, mon, logger) { remote = rem };
            mon.LinkChanged += dev.OnLinkChanged;
            LogCreated(logger, name, actual, index, remoteName ?? "-");
            return dev;
        }
        catch
        {
            if (rem is not null)
            {
                try
                {
                    rem.Dispose();
                }
                catch (Exception ex) when (ex is LinuxException or TimeoutException or TapRemoteException)
                {
                    LogCleanupFailed(logger, ex, name);
                }
            }

            mon?.Dispose();
            if (persist && !existed && ka is not null && !ka.IsInvalid)
            {
                TunInterop.SetPersist(ka, false); // best effort: a failed probe leaves no device behind
            }

            ka?.Dispose();
            if (nl is not null && createdIndex != 0)
            {
                WaitUntilGone(nl, createdIndex, logger, name, createdName); // a failed probe leaves no device behind when it returns
            }

            ns?.Dispose();
            nl?.Dispose();
            throw;
        }
    }

    protected override EthDevInfo GetInfo() => new()
    {
        DriverName = DriverName,
        MaxRxQueues = TunInterop.MaxQueues,
        MaxTxQueues = TunInterop.MaxQueues,
        MaxRxPacketLength = Mbuf.MaxPacketLength - 1,
        MinMtu = 68,
        MaxMtu = 65521, // tun: MAX_MTU - ETH_HLEN
        MaxMacAddresses = 1,
        MaxTxSegments = Mbuf.MaxSegments,
        RxOffloadCapabilities = RxOffloads.UdpChecksum | RxOffloads.TcpChecksum | RxOffloads.TcpLro | RxOffloads.Scatter,
        TxOffloadCapabilities = TxOffloads.MultiSegments | TxOffloads.Ipv4Checksum | TxOffloads.UdpChecksum
            | TxOffloads.TcpChecksum | TxOffloads.TcpTso,
        SpeedCapabilities = [LinkSpeed.Gbps10],
        SupportsLinkStatusEvents = true,
        SupportsRemovalEvents = true,
    };

    protected override void OnConfigure(int rxQueues, int txQueues, EthConf conf)
    {
        if (rxQueues != txQueues)
        {
            throw Fail("configure", string.Create(CultureInfo.InvariantCulture,
                $"{rxQueues} Rx and {txQueues} Tx queues: a tap port needs as many Rx as Tx queues (one fd per queue pair)"), Errno.EINVAL);
        }

        // What the kernel may hand us (TUNSETOFFLOAD): partial checksums only if the application asked for Rx
        // checksum offload, GSO packets only if it asked for LRO. Tx offloads need no flag.
        uint offload = 0;
        if ((conf.RxOffloads & (RxOffloads.Checksum | RxOffloads.TcpLro)) != 0)
        {
            offload |= TunInterop.TUN_F_CSUM;
        }

        if ((conf.RxOffloads & RxOffloads.TcpLro) != 0)
        {
            offload |= TunInterop.TUN_F_CSUM | TunInterop.TUN_F_TSO4 | TunInterop.TUN_F_TSO6;
        }

        TunInterop.SetOffload(keepAlive, offload);

        if (conf.Mtu is { } mtu)
        {
            OnSetMtu(mtu);
        }

        // Queue fds: keep the first min(old, new), close the rest, open the missing ones lazily at setup.
        var next = new SafeFd?[rxQueues];
        for (int i = 0; i < queueFds.Length; i++)
        {
            if (i < next.Length)
            {
                next[i] = queueFds[i];
            }
            else
            {
                queueFds[i]?.Dispose();
            }
        }

        queueFds = next;
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf) =>
        new TapRxQueue(queueId, descriptors, pool, QueueFd(queueId), portState, PortId, IsTun);

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf) =>
        new TapTxQueue(queueId, descriptors, QueueFd(queueId), portState);

    protected override void OnStart()
    {
        CheckNotRemoved("start");
        SetLinkUpCore();
    }

    protected override void OnStop()
    {
        if (!portState.Removed)
        {
            netlink.SetLinkUp(InterfaceIndex, false);
        }
    }

    protected override void OnClose()
    {
        monitor.LinkChanged -= OnLinkChanged;
        monitor.Dispose();
        Exception? failure = null;
        try
        {
            remote?.Dispose();
        }
        catch (Exception ex) when (ex is LinuxException or TimeoutException or TapRemoteException)
        {
            failure = ex;
        }

        remote = null;
        foreach (var fd in queueFds)
        {
            fd?.Dispose();
        }

        queueFds = [];
        keepAlive.Dispose(); // the TAP goes away with its last fd, unless persist
        if (!persist)
        {
            WaitUntilGone(netlink, InterfaceIndex, logger, Name, InterfaceName);
        }

        netns.Dispose();
        netlink.Dispose();
        if (failure is not null)
        {
            throw new InvalidOperationException($"restoring remote netdev: {failure.Message}", failure);
        }
    }

    /// <summary>
    /// Waits (at most 2 s) for the kernel to unregister the TAP, so a caller can re-create a device of the same
    /// name as soon as Close returns. The last reference to a tun fd can outlive our close() for a moment: a
    /// process forked at that instant (any Process.Start in the application) holds a copy until it execs.
    /// </summary>
    private static void WaitUntilGone(RtNetlink netlink, int index, ILogger logger, string port, string ifName)
    {
        long deadline = Environment.TickCount64 + 2000;
        try
        {
            while (netlink.GetLink(index) is not null)
            {
                if (Environment.TickCount64 >= deadline)
                {
                    LogStillPresent(logger, port, ifName);
                    return;
                }

                Thread.Sleep(2);
            }
        }
        catch (Exception ex) when (ex is LinuxException or TimeoutException)
        {
            LogStillPresent(logger, port, ifName); // cannot tell; closing goes on
        }
    }

    protected override LinkStatus OnGetLink()
    {
        if (portState.Removed)
        {
            return LinkStatus.Down;
        }

        var l = netlink.GetLink(InterfaceIndex);
        bool up = l is not null && l.IsUp && (remote is null || remote.IsRunning());
        return up ? LinkStatus.Up(LinkSpeed.Gbps10) : LinkStatus.Down;
    }

    protected override void OnSetLinkUp()
    {
        CheckNotRemoved("link up");
        SetLinkUpCore();
    }

    protected override void OnSetLinkDown()
    {
        CheckNotRemoved("link down");
        netlink.SetLinkUp(InterfaceIndex, false); // local only, as DPDK
    }

    protected override void OnSetPromiscuous(bool enable)
    {
        const string op = "promiscuous";
        CheckNotRemoved(op);
        if (!IsTun)
        {
            netlink.SetPromiscuous(InterfaceIndex, enable);
        }

        RemoteOp(op, r => r.SetPromiscuous(enable));
    }

    protected override void OnSetAllMulticast(bool enable)
    {
        const string op = "all-multicast";
        CheckNotRemoved(op);
        if (!IsTun)
        {
            netlink.SetAllMulticast(InterfaceIndex, enable);
        }

        RemoteOp(op, r => r.SetAllMulticast(enable));
    }

    protected override void OnSetMacAddress(MacAddress mac)
    {
        const string op = "MAC address set";
        if (IsTun)
        {
            throw NotSupported(op);
        }

        CheckNotRemoved(op);
        byte[] b = new byte[6];
        mac.CopyTo(b);
        RemoteOp(op, r => r.SetMacAddress(b));
        netlink.SetMacAddress(InterfaceIndex, b);
    }

    protected override void OnSetMtu(int mtu)
    {
        const string op = "MTU set";
        CheckNotRemoved(op);
        RemoteOp(op, r => r.SetMtu(mtu));
        netlink.SetMtu(InterfaceIndex, mtu);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Port}: netdev {IfName} (ifindex {IfIndex}) created, remote {Remote}")]
    private static partial void LogCreated(ILogger logger, string port, string ifName, int ifIndex, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: netdev {IfName} still exists 2 s after its last fd was closed")]
    private static partial void LogStillPresent(ILogger logger, string port, string ifName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: cleaning up after a failed probe")]
    private static partial void LogCleanupFailed(ILogger logger, Exception ex, string port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Port}: netdev {IfName} (ifindex {IfIndex}) was deleted")]
    private static partial void LogRemoved(ILogger logger, string port, string ifName, int ifIndex);

    private static MacAddress ChooseMac(string? macArg, int portHint)
    {
        if (macArg == "fixed")
        {
            // DPDK: 02:'d':'t':'a':'p':index
            return new MacAddress(0x02, 0x64, 0x74, 0x61, 0x70, (byte)portHint);
        }

        if (macArg is not null)
        {
            return MacAddress.Parse(macArg);
        }

        Span<byte> r = stackalloc byte[6];
        Random.Shared.NextBytes(r);
        r[0] = (byte)((r[0] & 0xFE) | 0x02); // unicast, locally administered
        return new MacAddress(r);
    }

    private void SetLinkUpCore()
    {
        netlink.SetLinkUp(InterfaceIndex, true);
        RemoteOp("link up", r => r.SetUp());
    }

    private void RemoteOp(string op, Action<TapRemote> action)
    {
        if (remote is not { } r)
        {
            return;
        }

        try
        {
            action(r);
        }
        catch (TapRemoteException ex)
        {
            throw Fail(op, ex.Message, ex.Error);
        }
    }

    private void CheckNotRemoved(string op)
    {
        if (portState.Removed)
        {
            throw Fail(op, $"netdev {InterfaceName}{(remote is null ? string.Empty : " or remote " + remote.Name)} was deleted", Errno.ENODEV);
        }
    }

    private int QueueFd(int queueId)
    {
        CheckNotRemoved("queue setup");
        if (queueFds[queueId] is not { } fd)
        {
            fd = TunInterop.Attach(InterfaceName, flags, nonBlocking: true, out string got, netns);
            if (got != InterfaceName)
            {
                fd.Dispose();
                throw Fail("queue setup", $"queue {queueId} attached to {got}, not {InterfaceName}", Errno.ENODEV);
            }

            queueFds[queueId] = fd;
        }

        return fd.Fd;
    }

    /// <summary>Link events from the netns the port lives in (on the monitor's thread).</summary>
    private void OnLinkChanged(object? sender, LinkEventArgs e)
    {
        bool mine = e.Index == InterfaceIndex;
        bool theirs = remote is { } r && e.Index == r.Index;
        if (!mine && !theirs)
        {
            return;
        }

        lock (eventLock)
        {
            if (e.Kind == LinkEventKind.Deleted)
            {
                if (theirs)
                {
                    remote?.MarkGone();
                }

                portState.MarkRemoved();
                LogRemoved(logger, Name, e.Name, e.Index);
                if (!removalRaised)
                {
                    removalRaised = true;
                    if (lastLinkUp)
                    {
                        lastLinkUp = false;
                        RaiseEvent(EthDevEventType.LinkStatusChange, "link down: netdev deleted");
                    }

                    RaiseEvent(EthDevEventType.Removal, $"netdev {e.Name} (ifindex {e.Index}) deleted");
                }

                return;
            }

            if (portState.Removed || Configuration is not { LinkStatusEvents: true })
            {
                return;
            }

            bool up;
            try
            {
                up = OnGetLink().IsUp;
            }
            catch (Exception ex) when (ex is LinuxException or TimeoutException)
            {
                return;
            }

            if (up != lastLinkUp)
            {
                lastLinkUp = up;
                RaiseEvent(EthDevEventType.LinkStatusChange, up ? "link up" : "link down");
            }
        }
    }
}
