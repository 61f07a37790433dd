using System.Text.Json;
using Hyperlane.Cli.Doctor;
using Hyperlane.Linux;
using Hyperlane.Net.VdevNetvsc;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Cli.Tests;

/// <summary>
/// <c>hyperlane doctor</c> in process, against sysfs/procfs trees built in a temporary directory
/// (<c>--root</c>). The NetVSC and VF netdevs are veths in a namespace the test makes (their MAC and ifindex
/// come from the kernel there), so the host's interfaces are never candidates.
/// </summary>
public class DoctorTests
{
    private const string MacA = "00:0d:3a:aa:00:01";
    private const string MacB = "00:0d:3a:bb:00:02";

    private static (int Rc, string Out, string Err) Run(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int rc = CliApp.Run(args, TextReader.Null, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [SkippableFact]
    public void Doctor_prints_the_netvsc_vf_pairs_and_the_vdev_string()
    {
        Requires.NetNamespaces();
        using var lab = NetNamespace.Create();
        using var tree = new FakeHostTree();
        string nv1 = lab.AddVethPair(macA: MacA).A;
        string vf1 = lab.AddVethPair(macA: MacA).A;
        string nv2 = lab.AddVethPair(macA: MacB).A;
        string other = lab.AddVethPair(macA: MacA).A; // nv1's MAC but not PCI: never its VF
        lab.Ip("addr", "add", "192.0.2.7/24", "dev", nv2);
        tree.MarkNetvsc(nv1);
        tree.MarkNetvsc(nv2);
        tree.MarkPciVf(vf1, "0002:00:02.0", "mlx5_core");
        string uio = tree.AddVmbusNetDevice("uio_hv_generic");
        BuildHost(tree);

        var (rc, output, err) = lab.Run(() => Run("doctor", "--root", tree.Root));

        Assert.True(rc == 0, err);
        Assert.Equal(string.Empty, err);
        int vfIndex = lab.Run(() => (int)Syscalls.InterfaceIndex(vf1).Value);
        int nvIndex = lab.Run(() => (int)Syscalls.InterfaceIndex(nv1).Value);
        Assert.Contains($"[ ok ] netvsc {nv1}: MAC 00:0D:3A:AA:00:01, ifindex {nvIndex}, unrouted, driver hv_netvsc; VF {vf1} (ifindex {vfIndex}, PCI 0002:00:02.0, driver mlx5_core)", output, StringComparison.Ordinal);
        Assert.Contains($"used by default as net_vdev_netvsc0,iface={nv1}", output, StringComparison.Ordinal);
        Assert.Contains($"[info] netvsc {nv2}: MAC 00:0D:3A:BB:00:02", output, StringComparison.Ordinal);
        Assert.Contains("routed (192.0.2.7/24)", output, StringComparison.Ordinal);
        Assert.Contains($"{nv2} has addresses 192.0.2.7/24: skipped so the management NIC is not taken; name it with iface= to use it", output, StringComparison.Ordinal);
        Assert.Contains($"vdev: --vdev net_vdev_netvsc0,iface={nv1}\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain($"iface={nv2}", output, StringComparison.Ordinal);
        Assert.DoesNotContain($"VF {other}", output, StringComparison.Ordinal);
        Assert.Contains("/sys/bus/vmbus present", output, StringComparison.Ordinal);
        Assert.Contains($"vmbus {uio}: driver uio_hv_generic, no netdev", output, StringComparison.Ordinal);
        Assert.Contains("hugepages: 2 MiB: 64 reserved, 60 free; 1 GiB: 0 reserved, 0 free", output, StringComparison.Ordinal);
        Assert.Contains("[ ok ] capabilities: CapEff 0000000000003000: CAP_NET_ADMIN yes, CAP_NET_RAW yes", output, StringComparison.Ordinal);
        Assert.Contains("kernel sch_ingress: tc ingress qdisc: loaded", output, StringComparison.Ordinal);
        Assert.Contains("kernel cls_u32: tc u32 classifier: builtin (listed in /lib/modules/6.1.0-hltest/modules.builtin)", output, StringComparison.Ordinal);
        Assert.Contains("kernel act_mirred: tc mirred action: available", output, StringComparison.Ordinal);
        Assert.Contains("[info] kernel cls_flower: tc flower classifier: missing", output, StringComparison.Ordinal);
        Assert.Contains("[ ok ] /dev/net/tun", output, StringComparison.Ordinal);
        Assert.StartsWith($"hyperlane doctor (host root {tree.Root}): kernel 6.1.0-hltest", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Doctor_json_parses_and_has_the_fields()
    {
        Requires.NetNamespaces();
        using var lab = NetNamespace.Create();
        using var tree = new FakeHostTree();
        string nv1 = lab.AddVethPair(macA: MacA).A;
        string vf1 = lab.AddVethPair(macA: MacA).A;
        tree.MarkNetvsc(nv1);
        tree.MarkPciVf(vf1, "7870:00:02.0", "mana");
        BuildHost(tree);

        var (rc, output, err) = lab.Run(() => Run("doctor", "--json", "--root", tree.Root));

        Assert.True(rc == 0, err);
        using var doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal(tree.Root, root.GetProperty("root").GetString());
        Assert.Equal("6.1.0-hltest", root.GetProperty("kernelRelease").GetString());
        Assert.True(root.GetProperty("hypervisor").GetProperty("vmbus").GetBoolean());
        Assert.True(root.GetProperty("hypervisor").GetProperty("hyperV").GetBoolean());
        Assert.Contains(root.GetProperty("hypervisor").GetProperty("cpuidAvailable").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        JsonElement n = Assert.Single(root.GetProperty("netvsc").EnumerateArray());
        Assert.Equal(nv1, n.GetProperty("name").GetString());
        Assert.Equal("00:0D:3A:AA:00:01", n.GetProperty("mac").GetString());
        Assert.False(n.GetProperty("routed").GetBoolean());
        Assert.True(n.GetProperty("selected").GetBoolean());
        Assert.Equal("hv_netvsc", n.GetProperty("driver").GetString());
        JsonElement vf = n.GetProperty("vf");
        Assert.Equal(vf1, vf.GetProperty("name").GetString());
        Assert.Equal("7870:00:02.0", vf.GetProperty("pciAddress").GetString());
        Assert.Equal("mana", vf.GetProperty("driver").GetString());
        Assert.False(vf.GetProperty("enslaved").GetBoolean());
        Assert.True(vf.GetProperty("ifindex").GetInt32() > 0);
        Assert.Equal([$"net_vdev_netvsc0,iface={nv1}"], root.GetProperty("vdev").GetProperty("arguments").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal($"--vdev net_vdev_netvsc0,iface={nv1}", root.GetProperty("vdev").GetProperty("text").GetString());
        Assert.Contains(root.GetProperty("skipped").EnumerateArray(), s => s.GetProperty("name").GetString() == "lo" && s.GetProperty("kind").GetString() == "notNetvsc");
        JsonElement pool = root.GetProperty("hugepages")[0];
        Assert.Equal(2048, pool.GetProperty("pageSizeKiB").GetInt64());
        Assert.Equal(64, pool.GetProperty("reserved").GetInt64());
        Assert.Equal(60, pool.GetProperty("free").GetInt64());
        Assert.True(root.GetProperty("tun").GetProperty("openable").GetBoolean());
        Assert.True(root.GetProperty("capabilities").GetProperty("netAdmin").GetBoolean());
        Assert.Equal("0000000000003000", root.GetProperty("capabilities").GetProperty("capEff").GetString());
        var features = root.GetProperty("kernelFeatures").EnumerateArray().ToDictionary(f => f.GetProperty("module").GetString()!, f => f.GetProperty("state").GetString());
        Assert.Equal("loaded", features["sch_ingress"]);
        Assert.Equal("builtin", features["cls_u32"]);
        Assert.Equal("available", features["act_mirred"]);
        Assert.Equal("missing", features["cls_flower"]);
        Assert.True(root.GetProperty("afXdp").TryGetProperty("supported", out _));
        var checks = root.GetProperty("checks").EnumerateArray().ToList();
        Assert.Contains(checks, c => c.GetProperty("id").GetString() == $"netvsc:{nv1}" && c.GetProperty("status").GetString() == "ok");
        Assert.All(checks, c => Assert.Contains(c.GetProperty("status").GetString(), new[] { "ok", "info", "warn", "fail" }));
        Assert.All(checks, c => Assert.False(string.IsNullOrEmpty(c.GetProperty("hint").GetString())));
        Assert.Equal(checks.Count, root.GetProperty("summary").EnumerateObject().Sum(p => p.Value.GetInt32()));
    }

    [Fact]
    public void Doctor_on_an_empty_tree_reports_no_netvsc_and_still_checks_the_rest()
    {
        // Host namespace, but an empty tree: the host's interfaces have no sysfs entry there, so none is NetVSC.
        using var tree = new FakeHostTree();
        var (rc, output, err) = Run("doctor", "--root", tree.Root);
        Assert.True(rc == 0, err);
        Assert.Contains("/sys/bus/vmbus absent", output, StringComparison.Ordinal);
        Assert.Contains("netvsc: no NetVSC network interface", output, StringComparison.Ordinal);
        Assert.Contains("vdev: none: no NetVSC interface", output, StringComparison.Ordinal);
        Assert.Contains("[FAIL] /dev/net/tun: /dev/net/tun does not exist", output, StringComparison.Ordinal);
        Assert.Contains("[warn] capabilities: /proc/self/status does not exist", output, StringComparison.Ordinal);
        Assert.Contains("kernel cls_u32: tc u32 classifier: unknown", output, StringComparison.Ordinal);
        Assert.Contains("hugepages: 2 MiB: not offered by the kernel", output, StringComparison.Ordinal);
        Assert.DoesNotContain("net_vdev_netvsc0,iface=", output, StringComparison.Ordinal);
        Assert.Matches(@"summary: \d+ ok, \d+ warn, \d+ fail, \d+ info", output);
    }

    [Fact]
    public void Doctor_with_the_env_root_reads_that_tree()
    {
        // HostFs.Root is process-wide: the command line --root is what tests use; this only proves the default is HostFs.Root.
        Assert.Equal(HostFs.Root, new DoctorRunner().Tree.Root);
        using var tree = new FakeHostTree();
        Assert.Equal(tree.Root, new DoctorRunner(tree.Root).Tree.Root);
    }

    [Theory]
    [InlineData("doctor --bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("doctor --root", "--root")]
    [InlineData("doctor --root /nonexistent-hl-root", "--root '/nonexistent-hl-root' is not a directory")]
    [InlineData("doctor extra", "Unrecognized command or argument 'extra'")]
    public void Bad_doctor_command_lines_give_one_error_line_and_exit_2(string line, string expected)
    {
        var (rc, _, err) = Run(line.Split(' '));
        Assert.Equal(CliApp.ExitUsage, rc);
        string single = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("hyperlane doctor: error: ", single, StringComparison.Ordinal);
        Assert.Contains(expected, single, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_help_lists_json_but_not_the_hidden_root()
    {
        var (rc, output, _) = Run("doctor", "--help");
        Assert.Equal(0, rc);
        Assert.Contains("--json", output, StringComparison.Ordinal);
        Assert.DoesNotContain("--root", output, StringComparison.Ordinal);
        Assert.Contains("doctor [--json]", Run("--help").Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n", 0x000001fffeffffffUL)]
    [InlineData("CapEff:\t0000000000003000", 0x3000UL)]
    [InlineData("CapEff:\t0", 0UL)]
    public void CapEff_parses(string status, ulong expected)
    {
        Assert.True(Capabilities.TryParseCapEff(status, out ulong eff, out string? problem), problem);
        Assert.Equal(expected, eff);
    }

    [Theory]
    [InlineData("Name:\tx\n", "no CapEff line")]
    [InlineData("CapEff:\tzz", "not a hex capability mask")]
    [InlineData("CapEff:\t00000000000000000001", "not a hex capability mask")]
    [InlineData("CapEff:", "not a hex capability mask")]
    public void CapEff_rejects(string status, string reason)
    {
        Assert.False(Capabilities.TryParseCapEff(status, out _, out string? problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Capability_bits()
    {
        var both = new Capabilities(0x3000, null);
        Assert.True(both.HasNetAdmin);
        Assert.True(both.HasNetRaw);
        var adminOnly = new Capabilities(1UL << Capabilities.CapNetAdmin, null);
        Assert.False(adminOnly.HasNetRaw);
        Assert.False(new Capabilities(null, "x").HasNetAdmin);
    }

    [Theory]
    [InlineData("kernel/net/sched/cls_u32.ko\n", "cls_u32", true)]
    [InlineData("kernel/net/sched/cls_u32.ko.zst: kernel/net/sched/x.ko\n", "cls_u32", true)]
    [InlineData("kernel/net/sched/cls-u32.ko.xz:\n", "cls_u32", true)]
    [InlineData("kernel/net/sched/act_mirred.ko.gz:\n", "act_mirred", true)]
    [InlineData("kernel/net/sched/cls_u32x.ko\n", "cls_u32", false)]
    [InlineData("kernel/net/sched/cls_u32.kobj\n", "cls_u32", false)]
    [InlineData("kernel/net/sched/x.ko: kernel/net/sched/cls_u32.ko\n", "cls_u32", false)]
    [InlineData("", "cls_u32", false)]
    public void Module_lists(string text, string module, bool expected) => Assert.Equal(expected, KernelModules.ListContains(text, module));

    [Theory]
    [InlineData("CONFIG_NET_CLS_U32=y\n", 'y')]
    [InlineData("CONFIG_NET_CLS_U32=m\n", 'm')]
    [InlineData("# CONFIG_NET_CLS_U32 is not set\n", 'n')]
    [InlineData("CONFIG_NET_CLS_U32_PERF=y\n", null)]
    [InlineData("", null)]
    public void Kernel_config_values(string text, char? expected) => Assert.Equal(expected, KernelModules.ConfigValue(text, "CONFIG_NET_CLS_U32"));

    [Fact]
    public void Kernel_feature_from_gzipped_config_and_missing_module()
    {
        using var tree = new FakeHostTree();
        tree.Write("/lib/modules/6.1.0-hltest/modules.dep", "kernel/drivers/net/tun.ko:\n");
        Directory.CreateDirectory(tree.P("/proc"));
        using (var file = File.Create(tree.P("/proc/config.gz")))
        using (var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write("CONFIG_NET_CLS_U32=y\nCONFIG_NET_ACT_MIRRED=m\n# CONFIG_NET_CLS_FLOWER is not set\n"u8);
        }

        var modules = new KernelModules(new Net.VdevNetvsc.SysfsTree(tree.Root), "6.1.0-hltest");
        Assert.Equal(ModuleState.Builtin, modules.Probe("cls_u32", "u32", "CONFIG_NET_CLS_U32").State);
        KernelFeature mirred = modules.Probe("act_mirred", "mirred", "CONFIG_NET_ACT_MIRRED");
        Assert.Equal(ModuleState.Missing, mirred.State);
        Assert.Contains("=m in /proc/config.gz, but the module is not installed", mirred.Evidence, StringComparison.Ordinal);
        Assert.Equal(ModuleState.Missing, modules.Probe("cls_flower", "flower", "CONFIG_NET_CLS_FLOWER").State);
        Assert.False(KernelModules.IsRelease("../x"));
        Assert.False(KernelModules.IsRelease(string.Empty));
        Assert.True(KernelModules.IsRelease("6.1.0-hltest"));
    }

    [Fact]
    public void Verdicts_for_made_up_facts()
    {
        var mac = MacAddress.Parse(MacA);
        var withVf = new NetvscInterface("eth1", 3, mac, [], "hv_netvsc", null, new NetvscVf("enP1", 4, mac, "0001:00:02.0", null, "unbound: no device/driver link", true));
        var noVf = new NetvscInterface("eth2", 5, MacAddress.Parse(MacB), [], "hv_netvsc", null, null);
        var linkLocal = new NetvscInterface("eth3", 6, MacAddress.Parse("00:0d:3a:cc:00:03"), ["fe80::20d:3aff:fecc:3/64"], "hv_netvsc", null, null);
        var scan = new NetvscScan(
            [withVf, noVf, linkLocal],
            [new SkippedInterface("bad0", 9, SkipKind.Unusable, "bad0: device/class_id 'x' is not a GUID")],
            [new VmbusNetDevice("dev-unbound", VmbusNetDevice.Unbound, null, null), new VmbusNetDevice("dev-uio", "uio_hv_generic", null, null)],
            []);
        NetvscSelection selection = scan.SelectDefault();
        var facts = new DoctorReport(
            "/", "6.1", new Hypervisor(true, true, Hypervisor.HyperVSignature, true), scan, null, selection,
            [new HugepagePool(2048, true, 8, 0), new HugepagePool(1024 * 1024, false, 0, 0)],
            new TunDevice(true, false, "open: EACCES"),
            new Capabilities(1UL << Capabilities.CapNetRaw, null),
            [new KernelFeature("cls_u32", "u32", ModuleState.Missing, "not in x"), new KernelFeature("cls_flower", "flower", ModuleState.Missing, "not in x")],
            new AfXdpSupport(false, "socket(AF_XDP, SOCK_RAW): EAFNOSUPPORT"),
            selection.VdevArguments, "--vdev net_vdev_netvsc0,iface=eth1 --vdev net_vdev_netvsc1,iface=eth2", []);

        var checks = DoctorChecks.Evaluate(facts).ToDictionary(c => c.Id);

        Assert.Equal(DoctorStatus.Ok, checks["hypervisor"].Status);
        Assert.Equal(DoctorStatus.Warn, checks["netvsc:eth1"].Status); // VF without a kernel driver
        Assert.Contains("enslaved", checks["netvsc:eth1"].Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Warn, checks["netvsc:eth2"].Status); // no VF
        Assert.Contains("net_vdev_netvsc1,iface=eth2", checks["netvsc:eth2"].Hint, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Info, checks["netvsc:eth3"].Status);
        Assert.Contains("disable_ipv6=1", checks["netvsc:eth3"].Hint, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Warn, checks["skipped:bad0"].Status);
        Assert.Equal(DoctorStatus.Warn, checks["vmbus:dev-unbound"].Status);
        Assert.Equal(DoctorStatus.Info, checks["vmbus:dev-uio"].Status);
        Assert.Equal(DoctorStatus.Warn, checks["hugepages"].Status);
        Assert.Equal(DoctorStatus.Fail, checks["tun"].Status);
        Assert.Equal(DoctorStatus.Fail, checks["capabilities"].Status);
        Assert.Contains("CAP_NET_ADMIN", checks["capabilities"].Hint, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Fail, checks["kernel:cls_u32"].Status);
        Assert.Equal(DoctorStatus.Info, checks["kernel:cls_flower"].Status);
        Assert.Equal(DoctorStatus.Warn, checks["af_xdp"].Status);
        Assert.Contains("CONFIG_XDP_SOCKETS", checks["af_xdp"].Hint, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, checks["vdev"].Status);

        var kvm = facts with { Hypervisor = new Hypervisor(true, true, Hypervisor.HyperVSignature, false), Scan = null, ScanError = "no netlink" };
        var kvmChecks = DoctorChecks.Evaluate(kvm).ToDictionary(c => c.Id);
        Assert.Equal(DoctorStatus.Warn, kvmChecks["hypervisor"].Status);
        Assert.Equal(DoctorStatus.Fail, kvmChecks["netvsc"].Status);
        Assert.DoesNotContain(kvmChecks.Keys, k => k.StartsWith("vmbus", StringComparison.Ordinal));
    }

    /// <summary>The non-network part of the host tree doctor reads: kernel release, modules, hugepages, capabilities, /dev/net/tun.</summary>
    private static void BuildHost(FakeHostTree tree)
    {
        tree.Write("/proc/sys/kernel/osrelease", "6.1.0-hltest\n");
        tree.Write("/proc/self/status", "Name:\thyperlane\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n");
        tree.Write("/sys/module/sch_ingress/initstate", "live\n");
        tree.Write("/lib/modules/6.1.0-hltest/modules.builtin", "kernel/net/sched/cls_u32.ko\n");
        tree.Write("/lib/modules/6.1.0-hltest/modules.dep", "kernel/net/sched/act_mirred.ko.zst:\nkernel/net/sched/sch_ingress.ko.zst:\n");
        tree.Write("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "64\n");
        tree.Write("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "60\n");
        tree.Write("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
        tree.Write("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
        tree.Write("/dev/net/tun", string.Empty);
    }
}
