using System.Security.Cryptography;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.VirtioUser;

/// <summary>
/// <c>virtio_user</c>: a virtio-net port whose device is a vhost-user backend in another process (a host switch's
/// net_vhost, DPDK's or ours), as DPDK's drivers/net/virtio/virtio_user. The port is the frontend: it shares its
/// mempools' memory with the backend by memfd and drives split or packed rings in that memory.
/// </summary>
/// <remarks>
/// Devargs (DPDK's): <c>path</c> (the vhost-user socket, required), <c>queues</c> (queue pairs, 1–128, default 1),
/// <c>queue_size</c> (descriptors per ring, default 256), <c>mrg_rxbuf</c> (default 1), <c>in_order</c> (default 1),
/// <c>packed_vq</c> (default 0), <c>server</c> (listen on <c>path</c> and take the backend back whenever it
/// reconnects), <c>mac</c>, <c>speed</c> (Mb/s reported in the link, default 10000). Ours: <c>connect-timeout</c>
/// (seconds to wait for the backend at port start, default 10, 0 = forever). DPDK's <c>cq</c>, <c>iface</c> and
/// <c>vectorized</c> are refused with the reason.
/// </remarks>
public sealed partial class VirtioUserDriver : IVdevDriver
{
    public const string DriverName = "virtio_user";

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["net_virtio_user"];

    public string Description => "virtio-net port over a vhost-user backend in another process (the guest side)";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("path", maxLength: 107)
        .Int("queues", min: 1, max: VhostUserFrontendOptions.MaxQueuePairs, @default: 1)
        .Int("queue_size", min: 1, max: 32768, @default: 256)
        .Bool("mrg_rxbuf", @default: true)
        .Bool("in_order", @default: true)
        .Bool("packed_vq")
        .Bool("server")
        .Mac("mac")
        .Int("speed", min: 1, max: 400_000, @default: 10_000)
        .Int("connect-timeout", min: 0, max: 3600, @default: 10)
        .Unsupported("cq", "there is no control virtqueue: the port enables its queue pairs with SET_VRING_ENABLE, which is what DPDK's emulated control queue turns VIRTIO_NET_CTRL_MQ into")
        .Unsupported("iface", "vhost-kernel backends (a tap with /dev/vhost-net) are not supported; give path= a vhost-user socket")
        .Unsupported("vectorized", "there are no vector Rx/Tx paths; the scalar path is always used");

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        string dev = context.DeviceName;
        string path = v.GetString("path") ?? throw new DeviceException(dev, "path=<socket path> is required (the vhost-user backend's socket)");
        if (path.StartsWith("/dev/", StringComparison.Ordinal))
        {
            throw new DeviceException(dev, $"path '{path}': vhost-vdpa and vhost-kernel devices are not supported; give a vhost-user socket");
        }

        long connectSeconds = v.GetInt("connect-timeout");
        var options = new VhostUserFrontendOptions
        {
            Path = path,
            QueuePairs = (int)v.GetInt("queues"),
            QueueSize = (int)v.GetInt("queue_size"),
            MergeableRxBuffers = v.GetBool("mrg_rxbuf"),
            InOrder = v.GetBool("in_order"),
            PackedRing = v.GetBool("packed_vq"),
            Server = v.GetBool("server"),
            ConnectTimeout = connectSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(connectSeconds),
            Name = dev,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new DeviceException(dev, ex.Message.Replace("QueueSize", "queue_size", StringComparison.Ordinal).Replace("QueuePairs", "queues", StringComparison.Ordinal), ex);
        }

        MacAddress mac = v.GetMac("mac") is { } text ? MacAddress.Parse(text) : RandomMac();
        if (mac.IsMulticast)
        {
            throw new DeviceException(dev, $"mac {mac} is a multicast address; a port needs a unicast one");
        }

        var port = new VirtioUserEthDev(dev, options, mac, (uint)v.GetInt("speed"), context.Logger);
        LogProbed(context.Logger, dev, path, options.Server ? "server" : "client", options.QueuePairs, options.QueueSize, options.PackedRing ? "packed" : "split", options.MergeableRxBuffers, options.InOrder, mac.ToString());
        return [port];
    }

    /// <summary>A random locally administered unicast MAC, as DPDK's virtio_user picks without mac=.</summary>
    private static MacAddress RandomMac()
    {
        Span<byte> b = stackalloc byte[6];
        RandomNumberGenerator.Fill(b);
        b[0] = (byte)((b[0] & 0xFE) | 0x02);
        return MacAddress.Read(b);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: vhost-user {Mode} on {Path}, {QueuePairs} queue pair(s) x {QueueSize} ({Ring}), mrg_rxbuf {Mrg}, in_order {InOrder}, mac {Mac}; connects when the port starts")]
    private static partial void LogProbed(ILogger logger, string device, string path, string mode, int queuePairs, int queueSize, string ring, bool mrg, bool inOrder, string mac);
}
