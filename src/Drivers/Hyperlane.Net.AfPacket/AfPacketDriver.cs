using System.Globalization;
using System.Text;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Net.AfPacket.Kernel;
using Hyperlane.Packets;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.AfPacket;

/// <summary>
/// <c>net_af_packet</c>: a port over AF_PACKET sockets with mapped TPACKET_V3 rings on an existing kernel
/// interface, as DPDK's af_packet PMD. Devargs: <c>iface</c> (required), <c>qpairs</c>, <c>blocksz</c>,
/// <c>framesz</c>, <c>framecnt</c>, <c>qdisc_bypass</c>, <c>fanout_mode</c>, and the Hyperlane extension
/// <c>steal</c> (a tc ingress drop filter that keeps the kernel from the interface's traffic while the port
/// exists; see <see cref="AfPacketSteal"/>). See docs/drivers/af_packet.md.
/// </summary>
public sealed partial class AfPacketDriver : IVdevDriver
{
    public const string DriverName = "net_af_packet";

    private static readonly string[] FanoutModes = ["hash", "lb", "cpu", "rollover", "rnd", "qm"];

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_af_packet"];

    public string Description => "port over AF_PACKET sockets with mapped rings on a kernel interface";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("iface", maxLength: PacketConstants.MaxInterfaceName)
        .Int("qpairs", min: 1, max: 16, @default: 1)
        .Int("blocksz", min: 1, max: 1 << 30, @default: 4096)
        .Int("framesz", min: 128, max: 1 << 30, @default: 2048)
        .Int("framecnt", min: 1, max: 1 << 20, @default: 512)
        .Bool("qdisc_bypass", @default: true)
        .Enum("fanout_mode", FanoutModes, @default: "hash")
        .Bool("steal", @default: false);

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string dev = context.DeviceName;
        var o = Parse(dev, context.Values);

        var index = Syscalls.InterfaceIndex(o.Interface);
        if (!index.IsSuccess)
        {
            throw new DeviceException(dev, $"iface '{o.Interface}' does not exist (ENODEV)");
        }

        int ifIndex = (int)index.Value;
        var sockets = new List<PacketSocket>(o.QueuePairs);
        AfPacketEthDev? port = null;
        RtNetlink? netlink = null;
        LinkMonitor? monitor = null;
        try
        {
            int fanoutGroup = -1;
            for (int i = 0; i < o.QueuePairs; i++)
            {
                var s = PacketSocket.Open(ifIndex, o);
                sockets.Add(s);
                if (o.QueuePairs > 1)
                {
                    fanoutGroup = s.JoinFanout(i == 0 ? null : fanoutGroup, FanoutModeValue(o.FanoutMode));
                }
            }

            netlink = new RtNetlink(); // in the probing thread's namespace, with the sockets
            var link = netlink.GetLink(ifIndex) ?? throw new DeviceException(dev, $"iface '{o.Interface}' disappeared during probe (ENODEV)");
            port = new AfPacketEthDev(dev, o, ifIndex, [.. sockets], netlink, new MacAddress(link.Address), fanoutGroup);
            netlink = null; // the port owns it now
            monitor = new LinkMonitor();
            port.AttachMonitor(monitor);
            monitor = null; // the port owns it now

            // The interface might have gone between the first look and the monitor's subscription.
            var again = Syscalls.InterfaceIndex(o.Interface);
            if (!again.IsSuccess || again.Value != ifIndex)
            {
                throw new DeviceException(dev, $"iface '{o.Interface}' disappeared during probe (ENODEV)");
            }

            // From probe, not start: the sockets take the interface's frames from here on, so the kernel stops
            // seeing them from here on too, and a stop/start (reconfiguration, failsafe's replay) never hands
            // frames back to the kernel stack for a moment. A refusal fails the probe, not a later start.
            if (o.Steal)
            {
                port.InstallSteal(context.Logger);
            }

            LogProbed(context.Logger, dev, o.Interface, ifIndex, o.QueuePairs, o.BlockSize, o.FrameSize, o.RingFrameCount, o.QdiscBypass, o.FanoutMode, fanoutGroup, o.Steal);
            return [port];
        }
        catch (Exception ex)
        {
            monitor?.Dispose();
            netlink?.Dispose();
            if (port is not null)
            {
                port.Close(); // disposes the monitor and the sockets
            }
            else
            {
                foreach (var s in sockets)
                {
                    s.Dispose();
                }
            }

            if (ex is DeviceException or DevargsException)
            {
                throw;
            }

            throw new DeviceException(dev, $"iface '{o.Interface}': {ex.Message}", ex);
        }
    }

    private static AfPacketOptions Parse(string dev, DevargsValues v)
    {
        if (!v.IsSet("iface"))
        {
            throw new DevargsException(dev, "iface", "key 'iface' is required: the kernel interface to attach to (iface=<name>)");
        }

        string iface = v.GetString("iface")!;
        if (Encoding.UTF8.GetByteCount(iface) > PacketConstants.MaxInterfaceName)
        {
            throw new DevargsException(dev, "iface", $"key 'iface' = '{iface}' is longer than {PacketConstants.MaxInterfaceName} bytes (IFNAMSIZ)");
        }

        if (iface.AsSpan().IndexOfAny("/: \t") >= 0 || iface is "." or "..")
        {
            throw new DevargsException(dev, "iface", $"key 'iface' = '{iface}' is not a valid interface name");
        }

        int page = Mman.PageSize;
        int blocksz = (int)v.GetInt("blocksz");
        if ((blocksz & (blocksz - 1)) != 0 || blocksz % page != 0)
        {
            throw new DevargsException(dev, "blocksz", Inv($"key 'blocksz' = {blocksz} must be a power of two and a multiple of the page size ({page})"));
        }

        int framesz = (int)v.GetInt("framesz");
        if (framesz % PacketConstants.TPACKET_ALIGNMENT != 0)
        {
            throw new DevargsException(dev, "framesz", Inv($"key 'framesz' = {framesz} must be a multiple of {PacketConstants.TPACKET_ALIGNMENT} (TPACKET_ALIGNMENT)"));
        }

        if (framesz > blocksz)
        {
            throw new DevargsException(dev, "framesz", Inv($"key 'framesz' = {framesz} is larger than blocksz = {blocksz} (a frame must fit in one block)"));
        }

        var o = new AfPacketOptions(
            iface,
            (int)v.GetInt("qpairs"),
            blocksz,
            framesz,
            (int)v.GetInt("framecnt"),
            v.GetBool("qdisc_bypass"),
            v.GetString("fanout_mode")!,
            v.GetBool("steal"));

        // Two rings (Rx, Tx) per queue pair; the kernel allocates them from unswappable memory.
        long total = o.RingBytes * 2 * o.QueuePairs;
        if (total > 1L << 31)
        {
            throw new DevargsException(dev, "framecnt", Inv($"key 'framecnt' = {o.FrameCount}: rings of {total >> 20} MiB in all exceed 2048 MiB (blocksz x blocks x 2 x qpairs)"));
        }

        return o;
    }

    private static int FanoutModeValue(string mode) => mode switch
    {
        "lb" => PacketConstants.PACKET_FANOUT_LB,
        "cpu" => PacketConstants.PACKET_FANOUT_CPU,
        "rollover" => PacketConstants.PACKET_FANOUT_ROLLOVER,
        "rnd" => PacketConstants.PACKET_FANOUT_RND,
        "qm" => PacketConstants.PACKET_FANOUT_QM,
        _ => PacketConstants.PACKET_FANOUT_HASH,
    };

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: iface {Iface} (ifindex {IfIndex}), {QueuePairs} queue pair(s), blocksz {BlockSize}, framesz {FrameSize}, {Frames} frames per ring, qdisc_bypass {Bypass}, fanout {Fanout} group {Group}, steal {Steal}")]
    private static partial void LogProbed(ILogger logger, string device, string iface, int ifIndex, int queuePairs, int blockSize, int frameSize, int frames, bool bypass, string fanout, int group, bool steal);
}
