using System.Globalization;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket.Kernel;
using Hyperlane.Packets;

namespace Hyperlane.Net.AfPacket;

/// <summary>
/// The port behind <see cref="AfPacketDriver"/>: <c>qpairs</c> AF_PACKET sockets on one kernel interface,
/// joined in one fanout group; Rx and Tx queue i use socket i. A <see cref="LinkMonitor"/> follows the
/// interface: a deletion raises <see cref="EthDevEventType.Removal"/> at once and turns both bursts off (they
/// return 0 from then on); up/down or carrier changes raise <see cref="EthDevEventType.LinkStatusChange"/>.
/// With <c>steal=1</c> the interface's tc ingress drops every frame from probe to close (<see cref="AfPacketSteal"/>).
/// </summary>
public sealed class AfPacketEthDev : EthDev, IKernelInterfacePort
{
    /// <summary>Frame overhead above the MTU the kernel accepts on a Tx ring: Ethernet header plus one VLAN tag.</summary>
    private const int L2Overhead = 14 + 4;

    private readonly AfPacketOptions options;
    private readonly PacketSocket[] sockets;
    private readonly RtNetlink netlink;
    private readonly Lock eventSync = new();
    private LinkMonitor? monitor;
    private AfPacketSteal? steal;
    private volatile bool removed;
    private volatile bool adminUp;
    private volatile bool carrier;
    private volatile int maxFrameLength;
    private long missedBaseline;
    private readonly XStatBaseline xstatBaseline = new();

    internal AfPacketEthDev(string name, AfPacketOptions options, int ifIndex, PacketSocket[] sockets, RtNetlink netlink, MacAddress mac, int fanoutGroup)
        : base(name, AfPacketDriver.DriverName, mac)
    {
        this.options = options;
        this.sockets = sockets;
        this.netlink = netlink;
        InterfaceIndex = ifIndex;
        FanoutGroup = fanoutGroup;
        RefreshInterface();
    }

    /// <summary>The kernel interface the port is attached to.</summary>
    public string InterfaceName => options.Interface;

    /// <summary>Its ifindex at probe time (the sockets stay bound to it).</summary>
    public int InterfaceIndex { get; }

    /// <summary>The PACKET_FANOUT group id the sockets share (kernel-chosen, unique), or -1 with one queue pair.</summary>
    public int FanoutGroup { get; }

    /// <summary>True once the kernel interface was deleted: the port is dead until it is closed.</summary>
    public bool IsRemoved => removed;

    /// <summary>
    /// True while <c>steal=1</c> holds the interface: a tc ingress filter drops every frame after the packet
    /// taps (the port's sockets) have seen it, so the kernel stack does not. Set at probe, cleared at close.
    /// </summary>
    public bool IsStealing => steal is not null;

    /// <summary>The steal=1 filter (for tests and diagnostics), or null.</summary>
    internal AfPacketSteal? Steal => steal;

    /// <summary>The interface's MTU as last read from the kernel.</summary>
    public int InterfaceMtu { get; private set; }

    /// <summary>Largest frame Tx accepts (MTU + 18, capped by the frame size).</summary>
    internal int MaxFrameLength => maxFrameLength;

    protected override EthDevInfo GetInfo()
    {
        int txCapacity = options.FrameSize - PacketConstants.Tpacket3HeaderLength;

        // A V3 Rx block holds its descriptor, then per packet a 48-byte header padded so that the network
        // header is 16-aligned (mac offset 82 for Ethernet): a frame longer than this is truncated by the kernel.
        int rxCapacity = options.BlockSize - PacketConstants.BlockDescriptorLength - 96 + 14;
        int maxLen = Math.Min(Math.Min(txCapacity, rxCapacity), Mbuf.MaxPacketLength);
        return new EthDevInfo
        {
            DriverName = AfPacketDriver.DriverName,
            MaxRxQueues = options.QueuePairs,
            MaxTxQueues = options.QueuePairs,
            // As DPDK's af_packet, the descriptor count given at queue setup is accepted and ignored: the
            // rings' geometry comes from blocksz/framesz/framecnt. The defaults report the real ring size.
            DefaultRxDescriptors = options.RingFrameCount,
            DefaultTxDescriptors = options.RingFrameCount,
            MaxRxPacketLength = maxLen,
            MinMtu = 68,
            MaxMtu = Math.Max(68, maxLen - L2Overhead),
            MaxTxSegments = Mbuf.MaxSegments,
            RxOffloadCapabilities = RxOffloads.VlanStrip | RxOffloads.Scatter | RxOffloads.RssHash,
            TxOffloadCapabilities = TxOffloads.MultiSegments,
            SpeedCapabilities = [LinkSpeed.Gbps10],
            SupportsLinkStatusEvents = true,
            SupportsRemovalEvents = true,
        };
    }

    protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf) =>
        new AfPacketRxQueue(queueId, descriptors, pool, this, sockets[queueId].Rx);

    protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf) =>
        new AfPacketTxQueue(queueId, descriptors, this, sockets[queueId]);

    protected override void OnStart()
    {
        if (removed)
        {
            throw Fail("start", $"kernel interface {InterfaceName} was deleted; close the port", Errno.ENODEV);
        }
    }

    /// <summary>Up when the interface is administratively up and has carrier; 10 Gb/s as DPDK's af_packet reports.</summary>
    protected override LinkStatus OnGetLink() =>
        !removed && adminUp && carrier ? LinkStatus.Up(LinkSpeed.Gbps10) : LinkStatus.Down;

    protected override void OnSetLinkUp() => SetInterfaceUp(true);

    protected override void OnSetLinkDown() => SetInterfaceUp(false);

    protected override void OnSetPromiscuous(bool enable)
    {
        RequireInterface("promiscuous");
        sockets[0].SetMembership(InterfaceIndex, PacketConstants.PACKET_MR_PROMISC, enable);
    }

    protected override void OnSetAllMulticast(bool enable)
    {
        RequireInterface("all-multicast");
        sockets[0].SetMembership(InterfaceIndex, PacketConstants.PACKET_MR_ALLMULTI, enable);
    }

    protected override void OnSetMacAddress(MacAddress mac)
    {
        RequireInterface("MAC address set");
        Span<byte> bytes = stackalloc byte[MacAddress.Length];
        mac.CopyTo(bytes);
        netlink.SetMacAddress(InterfaceIndex, bytes);
    }

    protected override void OnSetMtu(int mtu)
    {
        RequireInterface("MTU set");
        netlink.SetMtu(InterfaceIndex, mtu);
        RefreshInterface();
    }

    /// <summary>Adds the kernel's drops (PACKET_STATISTICS tp_drops, read here on the control path) as RxMissed.</summary>
    protected override EthStats OnAdjustStats(EthStats stats)
    {
        long missed = PollMissed() - missedBaseline;
        return stats with { RxMissed = stats.RxMissed + missed };
    }

    protected override void OnResetStats()
    {
        missedBaseline = PollMissed();
        xstatBaseline.Capture(RawXStats());
    }

    protected override void OnAddXStats(List<XStat> xstats) => xstatBaseline.AddSince(xstats, RawXStats());

    /// <summary>The per-socket kernel drops as they grew since probe (<see cref="OnAddXStats"/> subtracts the last reset).</summary>
    private List<XStat> RawXStats()
    {
        var xstats = new List<XStat>(sockets.Length);
        for (int i = 0; i < sockets.Length; i++)
        {
            xstats.Add(new(string.Create(CultureInfo.InvariantCulture, $"rx_q{i}_kernel_drops"), sockets[i].Drops));
        }

        return xstats;
    }

    protected override void OnClose()
    {
        LinkMonitor? m;
        bool interfaceGone;
        lock (eventSync)
        {
            m = monitor;
            monitor = null;
            interfaceGone = removed; // only a deletion sets it before close
            removed = true; // bursts that still run see a dead port, never the unmapped rings' successor
        }

        if (m is not null)
        {
            m.LinkChanged -= OnLinkChanged;
            m.Dispose();
        }

        foreach (var s in sockets)
        {
            s.Dispose();
        }

        // After the sockets: the interface's frames go back to the kernel once nobody here takes them.
        Exception? stealFailure = null;
        if (steal is { } st)
        {
            steal = null;
            try
            {
                st.Remove(interfaceGone);
            }
            catch (Exception ex) when (ex is LinuxException or TimeoutException)
            {
                stealFailure = ex;
            }
        }

        netlink.Dispose();
        if (stealFailure is not null)
        {
            throw Fail("close", $"steal=1: cannot remove the ingress drop filter from {InterfaceName}: {AfPacketSteal.Explain(stealFailure)}", (stealFailure as LinuxException)?.Error ?? Errno.ETIMEDOUT);
        }
    }

    /// <summary>steal=1: installs the ingress drop filter (probe, after the sockets are bound; throws DeviceException).</summary>
    internal void InstallSteal(Microsoft.Extensions.Logging.ILogger logger) =>
        steal = AfPacketSteal.Install(netlink, Name, InterfaceName, InterfaceIndex, logger);

    /// <summary>Starts following the interface (probe, in the namespace the sockets live in).</summary>
    internal void AttachMonitor(LinkMonitor linkMonitor)
    {
        monitor = linkMonitor;
        linkMonitor.LinkChanged += OnLinkChanged;
    }

    private void OnLinkChanged(object? sender, LinkEventArgs e)
    {
        if (e.Index != InterfaceIndex)
        {
            return;
        }

        // Decide under the lock, raise outside it: a handler may close the port.
        EthDevEventType? raise = null;
        string? detail = null;
        lock (eventSync)
        {
            if (removed)
            {
                return;
            }

            if (e.Kind == LinkEventKind.Deleted)
            {
                removed = true;
                raise = EthDevEventType.Removal;
                detail = $"kernel interface {InterfaceName} deleted";
            }
            else
            {
                bool wasUp = adminUp && carrier;
                adminUp = e.IsUp;
                carrier = e.HasCarrier;
                bool isUp = e.IsUp && e.HasCarrier;
                TryRefreshMtu(); // an MTU change outside the port also comes as RTM_NEWLINK
                if (wasUp != isUp)
                {
                    raise = EthDevEventType.LinkStatusChange;
                    detail = $"kernel interface {InterfaceName} link {(isUp ? "up" : "down")}";
                }
            }
        }

        if (raise is { } type)
        {
            RaiseEvent(type, detail);
        }
    }

    private long PollMissed()
    {
        long sum = 0;
        foreach (var s in sockets)
        {
            sum += removed ? s.Drops : s.PollDrops();
        }

        return sum;
    }

    private void SetInterfaceUp(bool up)
    {
        RequireInterface(up ? "link up" : "link down");
        netlink.SetLinkUp(InterfaceIndex, up);
    }

    private void RequireInterface(string op)
    {
        if (removed)
        {
            throw Fail(op, $"kernel interface {InterfaceName} was deleted", Errno.ENODEV);
        }
    }

    /// <summary>Reads flags and MTU from the kernel (probe, MTU set).</summary>
    private void RefreshInterface()
    {
        var link = netlink.GetLink(InterfaceIndex)
            ?? throw new LinuxException($"RTM_GETLINK for {InterfaceName} (ifindex {InterfaceIndex})", Errno.ENODEV);
        adminUp = link.IsUp;
        carrier = (link.Flags & LinkFlags.Running) != 0;
        ApplyMtu(link.Mtu);
    }

    /// <summary>Re-reads the MTU after a link event; false when the interface cannot be read (gone, or netlink failed).</summary>
    private bool TryRefreshMtu()
    {
        try
        {
            if (netlink.GetLink(InterfaceIndex) is not { } link)
            {
                return false;
            }

            ApplyMtu(link.Mtu);
            return true;
        }
        catch (Exception ex) when (ex is LinuxException or TimeoutException)
        {
            return false;
        }
    }

    private void ApplyMtu(int mtu)
    {
        InterfaceMtu = mtu;
        maxFrameLength = mtu + L2Overhead;
    }
}
