using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Net.VdevNetvsc;

namespace Hyperlane.Cli.Doctor;

/// <summary>
/// Collects what a user needs to know before running Hyperlane on Azure/Hyper-V, on any Linux machine:
/// hypervisor, NetVSC netdevs and VFs, VMBus network devices, hugepages, /dev/net/tun, capabilities, the
/// kernel's tc and AF_XDP support, and the --vdev string Hyperlane would use. Files are read under one root
/// (default <see cref="HostFs.Root"/>); netdevs come from rtnetlink in the calling thread's network
/// namespace; AF_XDP is asked of the running kernel. Reads only: nothing is loaded, bound or changed.
/// </summary>
public sealed class DoctorRunner
{
    /// <summary>The tc and VMBus pieces that matter, with their config symbols.</summary>
    public static readonly IReadOnlyList<(string Module, string Purpose, string Config)> Features =
    [
        ("sch_ingress", "tc ingress qdisc", "CONFIG_NET_SCH_INGRESS"),
        ("cls_u32", "tc u32 classifier", "CONFIG_NET_CLS_U32"),
        ("act_mirred", "tc mirred action", "CONFIG_NET_ACT_MIRRED"),
        ("cls_flower", "tc flower classifier", "CONFIG_NET_CLS_FLOWER"),
        ("uio_hv_generic", "VMBus user-space I/O", "CONFIG_UIO_HV_GENERIC"),
    ];

    /// <summary>A doctor over the tree at <paramref name="root"/> (null: <see cref="HostFs.Root"/>).</summary>
    public DoctorRunner(string? root = null)
    {
        Tree = new SysfsTree(root);
        Discovery = new NetvscDiscovery(Tree);
    }

    public SysfsTree Tree { get; }

    public NetvscDiscovery Discovery { get; }

    /// <summary>Runs every check. Throws only for a bug: every expected failure is a check's verdict.</summary>
    public DoctorReport Run()
    {
        string? release = Tree.ReadAttribute("/proc/sys/kernel/osrelease").Value;
        Hypervisor hypervisor = Hypervisor.Detect(Tree.Root);
        NetvscScan? scan = null;
        string? scanError = null;
        try
        {
            scan = Discovery.Scan();
        }
        catch (Exception e) when (e is LinuxException or NetlinkException or TimeoutException)
        {
            scanError = CliText.WithoutParameterName(e);
        }

        NetvscSelection? selection = scan?.SelectDefault();
        IReadOnlyList<string> vdev = selection?.VdevArguments ?? [];
        string vdevText = vdev.Count > 0
            ? string.Join(' ', vdev.Select(a => "--vdev " + a))
            : scan is null ? "unknown: the interfaces could not be listed"
            : scan.Interfaces.Count == 0 ? "none: no NetVSC interface"
            : $"none: every NetVSC interface is routed (name one explicitly: --vdev {NetvscDiscovery.DriverName}0,iface={scan.Interfaces[0].Name})";

        var report = new DoctorReport(
            Tree.Root,
            release,
            hypervisor,
            scan,
            scanError,
            selection,
            ReadHugepages(),
            ProbeTun(),
            ReadCapabilities(),
            ProbeKernel(release),
            ProbeAfXdp(),
            vdev,
            vdevText,
            []);
        return report with { Checks = DoctorChecks.Evaluate(report) };
    }

    /// <summary>The 2 MiB and 1 GiB pools from /sys/kernel/mm/hugepages (read as mempools read them).</summary>
    public IReadOnlyList<HugepagePool> ReadHugepages()
    {
        var pools = new List<HugepagePool>();
        foreach (long kib in new long[] { 2048, 1024 * 1024 })
        {
            Memory.HugepageInfo info = Memory.HugepageInfo.Read(Tree.Root, kib * 1024);
            pools.Add(new HugepagePool(kib, info.Present, info.Total, info.Free));
        }

        return pools;
    }

    /// <summary>Whether /dev/net/tun exists and opens read-write.</summary>
    public TunDevice ProbeTun()
    {
        string path = Tree.Path("/dev/net/tun");
        if (!File.Exists(path))
        {
            return new TunDevice(false, false, Directory.Exists(path) ? "/dev/net/tun is a directory" : "/dev/net/tun does not exist");
        }

        SysResult r = Syscalls.Open(path, Syscalls.O_RDWR, out SafeFd? fd);
        fd?.Dispose();
        return r.IsSuccess ? new TunDevice(true, true, null) : new TunDevice(true, false, $"open: {ErrnoText(r.Error)}");
    }

    /// <summary>CapEff from /proc/self/status.</summary>
    public Capabilities ReadCapabilities()
    {
        string path = Tree.Path("/proc/self/status");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new Capabilities(null, "/proc/self/status does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Capabilities(null, $"/proc/self/status cannot be read: {e.Message}");
        }

        return Capabilities.TryParseCapEff(text, out ulong eff, out string? problem)
            ? new Capabilities(eff, null)
            : new Capabilities(null, $"/proc/self/status: {problem}");
    }

    /// <summary>Where each of <see cref="Features"/> stands.</summary>
    public IReadOnlyList<KernelFeature> ProbeKernel(string? release)
    {
        var modules = new KernelModules(Tree, release);
        var list = new List<KernelFeature>(Features.Count);
        foreach ((string module, string purpose, string config) in Features)
        {
            list.Add(modules.Probe(module, purpose, config));
        }

        return list;
    }

    /// <summary>Whether this kernel lets this process open an AF_XDP socket.</summary>
    public static AfXdpSupport ProbeAfXdp()
    {
        SysResult r = Syscalls.Socket(Syscalls.AF_XDP, Syscalls.SOCK_RAW, 0, out SafeFd? fd);
        fd?.Dispose();
        return r.IsSuccess ? new AfXdpSupport(true, null) : new AfXdpSupport(false, $"socket(AF_XDP, SOCK_RAW): {ErrnoText(r.Error)}");
    }

    /// <summary>"EPERM" or "EAFNOSUPPORT" or "errno 123".</summary>
    public static string ErrnoText(Errno error) => (int)error switch
    {
        93 => "EPROTONOSUPPORT",
        94 => "ESOCKTNOSUPPORT",
        97 => "EAFNOSUPPORT",
        _ when Enum.IsDefined(error) => error.ToString(),
        _ => string.Create(CultureInfo.InvariantCulture, $"errno {(int)error}"),
    };
}
