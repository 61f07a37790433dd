using System.Globalization;
using Hyperlane.Core;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Failsafe;
using Hyperlane.Net.Tap;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>The net_vdev_netvsc lab tests run one at a time, after the others (they create TAPs with tc rules and time a failover).</summary>
[CollectionDefinition(LabNetvsc.Collection, DisableParallelization = true)]
public sealed class LabNetvscCollection
{
}

/// <summary>
/// A network namespace standing in for an Azure VM: veths there play the NetVSC netdevs and the VFs, a built
/// sysfs tree marks them (NetVSC class_id, or a PCI device), and a runtime created inside the namespace (so its
/// control thread probes there) has the af_packet, tap, failsafe and vdev_netvsc drivers. Each "wire" is a veth
/// pair: the lab's side (A) is what the driver sees, the peer (B) is where the test counts frames, as the host
/// would. Everything is torn down with the lab, also when a test fails.
/// </summary>
internal sealed class LabNetvsc : NamespaceLab
{
    public const string Collection = "vdev-netvsc-lab";

    private LabNetvsc(ITestOutputHelper output, NetNamespace ns, FakeHostTree tree, VdevNetvscDriver driver)
        : base(output, ns, [new AfPacketDriver(), new TapDriver(), new FailsafeDriver(), driver], "vsclab", logLines: 200)
    {
        Tree = tree;
        Driver = driver;
    }

    public FakeHostTree Tree { get; }

    public VdevNetvscDriver Driver { get; }

    /// <summary>A lab; <paramref name="hypervisor"/> is what auto-probing is told (default: the real detection over the built tree).</summary>
    public static LabNetvsc Create(ITestOutputHelper output, Hypervisor? hypervisor = null)
    {
        Requires.NetNamespaces();
        Requires.Tun();
        var tree = new FakeHostTree();
        try
        {
            var driver = new VdevNetvscDriver(new VdevNetvscOptions
            {
                HostRoot = tree.Root,
                DetectHypervisor = hypervisor is null ? null : () => hypervisor,
            });
            return new LabNetvsc(output, NetNamespace.Create(), tree, driver);
        }
        catch
        {
            tree.Dispose();
            throw;
        }
    }

    /// <summary>An Azure-style MAC (Microsoft's 00:0d:3a OUI) unique to lab wire <paramref name="n"/>.</summary>
    public static MacAddress Mac(int n) => new(0x00, 0x0d, 0x3a, 0x5c, (byte)(n >> 8), (byte)n);

    /// <summary>A veth pair whose side A has <paramref name="mac"/> and is up (B up too); returns the names.</summary>
    public (string A, string B) AddWire(MacAddress mac, string prefix = "hva")
    {
        string a = NetNamespace.UniqueIfName(prefix), b = NetNamespace.UniqueIfName("hvb");
        CreateWire(a, b, mac);
        return (a, b);
    }

    /// <summary>Creates the veth pair <paramref name="a"/>/<paramref name="b"/>, A with <paramref name="mac"/> and up in the same message, then B up.</summary>
    public void CreateWire(string a, string b, MacAddress mac)
    {
        Ns.Ip("link", "add", a, "address", mac.ToString(), "up", "type", "veth", "peer", "name", b);
        Ns.SetUp(b);
    }

    /// <summary>A NetVSC netdev: a wire whose A side sysfs marks NetVSC (hv_netvsc).</summary>
    public (string Netvsc, string Peer) AddNetvsc(MacAddress mac)
    {
        string a = NetNamespace.UniqueIfName("hvn"), b = NetNamespace.UniqueIfName("hvp");
        Tree.MarkNetvsc(a);
        CreateWire(a, b, mac);
        return (a, b);
    }

    /// <summary>A VF: a wire whose A side sysfs marks a PCI device (mlx5_core), marked before it appears so the first netlink event finds it.</summary>
    public (string Vf, string Peer) AddVf(MacAddress mac, string pci = "0002:00:02.0", string? name = null)
    {
        string a = name ?? NetNamespace.UniqueIfName("hvf"), b = NetNamespace.UniqueIfName("hvq");
        Tree.MarkPciVf(a, pci, "mlx5_core");
        CreateWire(a, b, mac);
        return (a, b);
    }

    /// <summary>Probes <paramref name="devargs"/> inside the namespace.</summary>
    public VdevDevice Probe(string devargs) => Ns.Run(() => Runtime.Vdev.Probe(devargs));

    /// <summary>The failsafe ports the probe made, in port order.</summary>
    public IReadOnlyList<FailsafeEthDev> FailsafePorts() => [.. Runtime.Ports.Ports.OfType<FailsafeEthDev>()];

    protected override void Dispose(bool disposing)
    {
        try
        {
            base.Dispose(disposing);
        }
        finally
        {
            if (disposing)
            {
                Tree.Dispose();
            }
        }
    }
}
