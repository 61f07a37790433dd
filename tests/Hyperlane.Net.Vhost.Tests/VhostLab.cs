using System.Globalization;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.VirtioUser;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// One test's world: a runtime with the net_vhost and virtio_user drivers (its log kept for failure messages), a
/// private socket directory, and the mempools the test made. Dispose closes every port (runtime), then frees the
/// pools and removes the directory, whether the test passed or not.
/// </summary>
internal sealed class VhostLab : IDisposable
{
    /// <summary>Data room that holds a 9000-byte frame behind virtio_user's 12-byte virtio-net header (plus the headroom).</summary>
    public const int JumboDataRoom = 9216 + MbufHeader.DefaultHeadroom;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static int poolCounter;

    private readonly List<Mempool> pools = [];

    public VhostLab()
    {
        Dir = new TempSocketDir("hl-nv-");
        Log = new LabLog();
        Runtime = new HyperlaneRuntime(new HyperlaneRuntimeOptions
        {
            Drivers = [new VhostDriver(), new VirtioUserDriver()],
            LoggerFactory = Log,
        });
    }

    public TempSocketDir Dir { get; }

    public string Socket => Dir.Socket;

    public LabLog Log { get; }

    public HyperlaneRuntime Runtime { get; }

    /// <summary>Probes <c>{name},iface={socket}[,args]</c>.</summary>
    public VhostEthDev ProbeVhost(string args = "", string name = "net_vhost0", string? socket = null) =>
        Assert.IsType<VhostEthDev>(Assert.Single(Runtime.Vdev.Probe($"{name},iface={socket ?? Socket}{Comma(args)}").Ports));

    /// <summary>Probes <c>{name},path={socket}[,args]</c>.</summary>
    public VirtioUserEthDev ProbeVirtio(string args = "", string name = "virtio_user0", string? socket = null) =>
        Assert.IsType<VirtioUserEthDev>(Assert.Single(Runtime.Vdev.Probe($"{name},path={socket ?? Socket}{Comma(args)}").Ports));

    /// <summary>
    /// A packet pool freed when the lab is; shareable (memfd) unless told otherwise. A pool that must not be
    /// shareable also stays off hugepages: a hugetlb region is a memfd, so shareable whatever was asked, and a
    /// machine with hugepages reserved would make the "cannot be shared" tests pass their pool.
    /// </summary>
    public Mempool Pool(string tag, int count = 2048, int dataRoom = Mempool.DefaultDataRoomSize, bool shareable = true, int cacheSize = 0)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"nv-{tag}-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}");
        var region = shareable ? new RegionOptions { Shareable = true } : new RegionOptions { AllowHugepages = false };
        var pool = Mempool.CreatePacketPool(name, count, cacheSize, dataRoom, region: region);
        pools.Add(pool);
        return pool;
    }

    /// <summary>Configures <paramref name="queues"/> queue pairs, each Rx queue on <paramref name="rxPool"/>; does not start.</summary>
    public static void Setup(EthDev port, int queues, Mempool rxPool, int descriptors = 512)
    {
        port.Configure(queues, queues);
        for (int q = 0; q < queues; q++)
        {
            port.SetupRxQueue(q, descriptors, rxPool);
            port.SetupTxQueue(q, descriptors);
        }
    }

    /// <summary>
    /// net_vhost (server, probed first), then virtio_user (client) on the same socket, both set up with
    /// <paramref name="queues"/> pairs and started; returns once both links are up.
    /// </summary>
    public PortPair StartPair(int queues = 1, string vhostArgs = "", string virtioArgs = "", int virtioDataRoom = Mempool.DefaultDataRoomSize, int vhostDataRoom = Mempool.DefaultDataRoomSize)
    {
        var vhost = ProbeVhost(Join(vhostArgs, Q(queues)));
        var virtio = ProbeVirtio(Join(virtioArgs, Q(queues)));
        var pair = new PortPair(
            vhost,
            virtio,
            Pool("vh-rx", 4096, vhostDataRoom, shareable: false),
            Pool("vh-tx", 2048, shareable: false),
            Pool("vu", 4096, virtioDataRoom));
        Setup(vhost, queues, pair.VhostRxPool);
        Setup(virtio, queues, pair.VirtioPool);
        vhost.Start();
        virtio.Start();
        WaitLink(vhost, true);
        WaitLink(virtio, true);
        return pair;
    }

    /// <summary>Waits (generously) for the port's link to be <paramref name="up"/>.</summary>
    public void WaitLink(EthDev port, bool up) =>
        Wait.Until(() => port.GetLink().IsUp == up, () => $"{port.Name} link {(up ? "up" : "down")}; log:\n{LogTail()}", Timeout);

    public string LogTail(int lines = 40) => string.Join('\n', Log.Tail(lines));

    public void Dispose()
    {
        try
        {
            Runtime.Dispose();
        }
        finally
        {
            foreach (var pool in pools)
            {
                pool.Dispose();
            }

            Dir.Dispose();
        }
    }

    /// <summary>Nothing of <paramref name="pool"/> is still out (call after the ports holding it are closed or drained).</summary>
    public static void AssertNoLeak(Mempool pool) =>
        Assert.True(pool.InUseCount == 0, $"{pool.InUseCount} mbufs of {pool.Name} were never given back");

    public static string Q(int queues) => string.Create(CultureInfo.InvariantCulture, $"queues={queues}");

    public static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "," + b;

    private static string Comma(string args) => args.Length == 0 ? string.Empty : "," + args;
}
