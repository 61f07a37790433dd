using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Vhost.Session;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.Vhost;

/// <summary>
/// <c>net_vhost</c>: a port that is the vhost-user backend of a virtio-net device (a VM's, or a container's
/// virtio_user), as DPDK's drivers/net/vhost. The socket is served from probe until the port is closed; the link
/// is up while the frontend has the device ready.
/// </summary>
/// <remarks>
/// Devargs (DPDK's): <c>iface</c> (the socket path, required), <c>queues</c> (queue pairs, 1–128, default 1),
/// <c>client</c> (connect to the frontend's socket instead of listening, and reconnect when it goes away),
/// <c>tso</c> (offer the TSO/checksum features to the guest), <c>linear-buffer</c> (never hand a multi-segment
/// mbuf to the application: a packet that does not fit one mbuf is dropped and counted). DPDK's
/// <c>iommu-support</c>, <c>postcopy-support</c>, <c>ext-buffer</c> and <c>legacy-ol-flags</c> are refused with the
/// reason.
/// </remarks>
public sealed partial class VhostDriver : IVdevDriver
{
    public const string DriverName = "net_vhost";

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_vhost"];

    public string Description => "vhost-user backend port (the host side of a virtio-net device)";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("iface", maxLength: 107)
        .Int("queues", min: 1, max: VhostUserBackendOptions.MaxQueuePairs, @default: 1)
        .Bool("client")
        .Bool("tso")
        .Bool("linear-buffer")
        .Unsupported("iommu-support", "there is no vIOMMU support (VIRTIO_F_IOMMU_PLATFORM and the IOTLB messages are not implemented)")
        .Unsupported("postcopy-support", "postcopy live migration (userfaultfd) is not implemented; precopy with dirty-page logging is")
        .Unsupported("ext-buffer", "mbufs always hold their own data; packets larger than one mbuf are chained (or dropped with linear-buffer=1)")
        .Unsupported("legacy-ol-flags", "Hyperlane reports guest offload requests only in the compliant form (Tx flags on dequeued mbufs)")
        .Unsupported("dequeue-zero-copy", "removed from DPDK in 20.11; packets are always copied");

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        string dev = context.DeviceName;
        string iface = v.GetString("iface") ?? throw new DeviceException(dev, "iface=<socket path> is required (the vhost-user socket to serve)");
        var options = new VhostUserBackendOptions
        {
            SocketPath = iface,
            Client = v.GetBool("client"),
            QueuePairs = (int)v.GetInt("queues"),
            Tso = v.GetBool("tso"),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new DeviceException(dev, $"iface '{iface}': {ex.Message}", ex);
        }

        var port = new VhostEthDev(dev, options, v.GetBool("linear-buffer"), context.Logger);
        try
        {
            port.StartBackend();
        }
        catch (Exception ex) when (ex is LinuxException or IOException or InvalidOperationException)
        {
            port.DisposeBackend();
            throw new DeviceException(dev, $"iface '{iface}': {ex.Message}", ex);
        }

        LogProbed(context.Logger, dev, iface, options.Client ? "client" : "server", options.QueuePairs, options.Tso, port.LinearBuffer);
        return [port];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: vhost-user {Mode} on {Iface}, {QueuePairs} queue pair(s), tso {Tso}, linear-buffer {Linear}")]
    private static partial void LogProbed(ILogger logger, string device, string iface, string mode, int queuePairs, bool tso, bool linear);
}
