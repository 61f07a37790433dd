using System.Diagnostics;
using System.Text.Json;
using Hyperlane.Core.Devices;
using Hyperlane.Linux;
using Hyperlane.Net.Failsafe;
using Hyperlane.Net.Tap;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// net_vdev_netvsc's devargs, auto-probing and removal against the real kernel: veths in a lab namespace that a
/// built sysfs tree marks NetVSC or PCI VF, a runtime with af_packet, tap, failsafe and vdev_netvsc. What the
/// probe makes is read back from the runtime (ports, their sub-devices, the TAP's remote=) and from the kernel.
/// </summary>
[Collection(LabNetvsc.Collection)]
public sealed class LabDevargsTests(ITestOutputHelper output)
{
    private static readonly Hypervisor HyperVByCpuid = new(true, true, Hypervisor.HyperVSignature, false);
    private static readonly Hypervisor Kvm = new(true, true, "KVMKVMKVM\0\0\0", false);

    [SkippableFact]
    public void Auto_mode_makes_a_port_per_unrouted_netvsc_veth_and_logs_why_the_routed_one_is_skipped()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        var (routed, _) = lab.AddNetvsc(LabNetvsc.Mac(3));
        lab.Ns.AddAddress(routed, "192.0.2.1/24");
        var (unmarked, _) = lab.AddWire(LabNetvsc.Mac(4));
        var (vf, _) = lab.AddVf(LabNetvsc.Mac(1), "0002:00:02.0");          // nv1's VF: never a port of its own
        var (otherVf, _) = lab.AddVf(LabNetvsc.Mac(6), "0003:00:02.0");     // a PCI netdev with another MAC

        lab.Probe("net_vdev_netvsc0");

        IReadOnlyList<FailsafeEthDev> ports = lab.FailsafePorts();
        Assert.Equal(["net_failsafe_vsc0", "net_failsafe_vsc1"], ports.Select(p => p.Name));
        Assert.Equal(nv1, TapOf(ports[0]).RemoteName);
        Assert.Equal(nv2, TapOf(ports[1]).RemoteName);
        Assert.Equal(LabNetvsc.Mac(1), ports[0].MacAddress);
        Assert.Equal(LabNetvsc.Mac(2), ports[1].MacAddress);

        NetvscDevice device = Assert.Single(lab.Driver.Devices);
        Assert.Equal("net_vdev_netvsc0", device.Name);
        Assert.Equal([nv1, nv2], device.Contexts.Select(c => c.NetdevName));
        Assert.Equal([lab.Ns.IfIndex(nv1), lab.Ns.IfIndex(nv2)], device.Contexts.Select(c => c.NetdevIndex));
        Assert.DoesNotContain(device.Contexts, c => c.NetdevName == routed || c.NetdevName == unmarked || c.NetdevName == vf || c.NetdevName == otherVf);

        // Each port's devargs, as logged, name its netdev in the TAP's remote= and its MAC.
        AssertLogged(lab, $"probing net_failsafe_vsc0,fd(", $"dev(net_tap_vsc0,remote={nv1}),mac={LabNetvsc.Mac(1)}");
        AssertLogged(lab, $"probing net_failsafe_vsc1,fd(", $"dev(net_tap_vsc1,remote={nv2}),mac={LabNetvsc.Mac(2)}");
        AssertLogged(lab, $"net_vdev_netvsc0: skipped {routed} has addresses 192.0.2.1/24: skipped so the management NIC is not taken");
        Assert.Equal(2, Taps(lab).Count);
    }

    [SkippableFact]
    public void Iface_makes_one_port_over_that_netdev()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));

        lab.Probe($"net_vdev_netvsc0,iface={nv2}");

        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        Assert.Equal("net_failsafe_vsc0", fs.Name);
        Assert.Equal(nv2, TapOf(fs).RemoteName);
        Assert.Equal(LabNetvsc.Mac(2), fs.MacAddress);
        Assert.Single(Taps(lab));
    }

    [SkippableFact]
    public void Two_ifaces_make_two_ports_in_the_order_given()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        lab.AddNetvsc(LabNetvsc.Mac(3));

        lab.Probe($"net_vdev_netvsc0,iface={nv2},iface={nv1}");

        IReadOnlyList<FailsafeEthDev> ports = lab.FailsafePorts();
        Assert.Equal(["net_failsafe_vsc0", "net_failsafe_vsc1"], ports.Select(p => p.Name));
        Assert.Equal(nv2, TapOf(ports[0]).RemoteName);
        Assert.Equal(nv1, TapOf(ports[1]).RemoteName);
        Assert.Equal(LabNetvsc.Mac(2), ports[0].MacAddress);
        Assert.Equal(LabNetvsc.Mac(1), ports[1].MacAddress);
    }

    [SkippableFact]
    public void Mac_makes_one_port_over_the_netvsc_netdev_with_that_mac_not_its_vf()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        lab.AddVf(LabNetvsc.Mac(2));

        lab.Probe($"net_vdev_netvsc0,mac={LabNetvsc.Mac(2)}");

        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        Assert.Equal(nv2, TapOf(fs).RemoteName);
        Assert.Equal(LabNetvsc.Mac(2), fs.MacAddress);
        Assert.Equal(nv2, Assert.Single(Assert.Single(lab.Driver.Devices).Contexts).NetdevName);
    }

    [SkippableFact]
    public void Force_on_an_unmarked_veth_makes_one_port_and_logs_a_warning()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        lab.AddNetvsc(LabNetvsc.Mac(1));
        var (plain, _) = lab.AddWire(LabNetvsc.Mac(7));

        lab.Probe($"net_vdev_netvsc0,force=1,iface={plain}");

        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        Assert.Equal(plain, TapOf(fs).RemoteName);
        Assert.Equal(LabNetvsc.Mac(7), fs.MacAddress);
        string warning = Assert.Single(lab.Log.Tail(500), l => l.Contains("probed as one because of force=1", StringComparison.Ordinal));
        Assert.Contains("Warning", warning, StringComparison.Ordinal);
        Assert.Contains($"{plain}: not a NetVSC netdev", warning, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Ignore_makes_nothing()
    {
        using var lab = LabNetvsc.Create(output, HyperVByCpuid);
        lab.AddNetvsc(LabNetvsc.Mac(1));
        lab.AddNetvsc(LabNetvsc.Mac(2));

        VdevDevice device = lab.Probe("net_vdev_netvsc0,ignore=1");

        Assert.Empty(device.Ports);
        Assert.Empty(lab.Runtime.Ports.All);
        Assert.Empty(lab.Driver.Devices);
        Assert.Empty(Taps(lab));
        AssertLogged(lab, "net_vdev_netvsc0: ignore=1, nothing probed");
    }

    [SkippableFact]
    public void Ignore_at_startup_also_stops_auto_probing_on_a_tree_with_vmbus()
    {
        using var lab = LabNetvsc.Create(output); // the real detection over the tree: it has /sys/bus/vmbus
        lab.AddNetvsc(LabNetvsc.Mac(1));
        lab.AddNetvsc(LabNetvsc.Mac(2));
        Assert.True(Directory.Exists(lab.Tree.P("/sys/bus/vmbus")));
        Assert.Equal("net_vdev_netvsc0", lab.Driver.AutoProbeDevargs(out string reason));
        output.WriteLine($"auto-probe would say: {reason}");

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup(["net_vdev_netvsc0,ignore=1"]));

        Assert.Empty(auto);
        Assert.Equal("net_vdev_netvsc0", Assert.Single(lab.Runtime.Vdev.Devices).Name);
        Assert.Empty(lab.Runtime.Ports.All);
        Assert.Empty(lab.Driver.Devices);
        Assert.Empty(Taps(lab));
    }

    [SkippableTheory]
    [InlineData("foo=1", "foo", "unknown key 'foo'")]
    [InlineData("mac=00:11:22", "mac", "is not a MAC address")]
    [InlineData("iface=nosuch0", "iface", "iface=nosuch0: no such interface")]
    [InlineData("iface={nv1},mac={mac2}", "mac", "name different devices")]
    public void Bad_devargs_are_one_clear_error_and_leave_nothing_behind(string keys, string key, string message)
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        string devargs = "net_vdev_netvsc0," + keys.Replace("{nv1}", nv1, StringComparison.Ordinal).Replace("{mac2}", LabNetvsc.Mac(2).ToString(), StringComparison.Ordinal);

        var ex = Assert.Throws<DevargsException>(() => lab.Probe(devargs));

        output.WriteLine($"{devargs} -> {ex.Message}");
        Assert.Equal(key, ex.Key);
        Assert.Equal("net_vdev_netvsc0", ex.DeviceName);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        if (keys.StartsWith("iface={nv1}", StringComparison.Ordinal))
        {
            Assert.Contains(nv1, ex.Message, StringComparison.Ordinal);
            Assert.Contains(nv2, ex.Message, StringComparison.Ordinal);
        }

        AssertNothingLeft(lab);

        // The name is free again: a good probe afterwards works.
        lab.Probe($"net_vdev_netvsc0,iface={nv1}");
        Assert.Single(lab.FailsafePorts());
    }

    [SkippableFact]
    public void Failure_attaching_the_second_named_netdev_removes_the_first_port_too()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));

        // Something else already holds the name the second failsafe port would get.
        lab.Probe("net_failsafe_vsc1,dev(net_tap_pre0)");
        var before = (Ports: lab.Runtime.Ports.All.Select(p => p.Name).ToList(), Vdevs: VdevNames(lab), Taps: Taps(lab));
        Assert.Contains("net_failsafe_vsc1", before.Vdevs);

        var ex = Assert.Throws<DeviceException>(() => lab.Probe($"net_vdev_netvsc0,iface={nv1},iface={nv2}"));

        output.WriteLine(ex.Message);
        Assert.Contains("net_failsafe_vsc1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before.Ports, lab.Runtime.Ports.All.Select(p => p.Name));
        Assert.Equal(before.Vdevs, VdevNames(lab));
        Assert.Empty(lab.Driver.Devices);
        Assert.Equal(before.Taps, Taps(lab));
    }

    [SkippableFact]
    public void Failure_attaching_one_netdev_in_auto_mode_leaves_it_out_and_keeps_the_others()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        lab.Probe("net_failsafe_vsc1,dev(net_tap_pre0)");

        lab.Probe("net_vdev_netvsc0");

        NetvscDevice device = Assert.Single(lab.Driver.Devices);
        NetvscPortContext ctx = Assert.Single(device.Contexts);
        Assert.Equal(nv1, ctx.NetdevName);
        Assert.Equal(nv1, TapOf(ctx.Port!).RemoteName);
        AssertLogged(lab, $"net_vdev_netvsc0: cannot attach to {nv2}; left out");
    }

    [SkippableFact]
    public void Startup_on_hyper_v_by_cpuid_auto_probes_net_vdev_netvsc0_over_the_unrouted_netvsc_veths()
    {
        using var lab = LabNetvsc.Create(output, HyperVByCpuid);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        var (routed, _) = lab.AddNetvsc(LabNetvsc.Mac(3));
        lab.Ns.AddAddress(routed, "192.0.2.1/24");

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup([]));

        Assert.Equal("net_vdev_netvsc0", Assert.Single(auto).Name);
        Assert.Equal([nv1, nv2], lab.FailsafePorts().Select(p => TapOf(p).RemoteName));
        AssertLogged(lab, "probing net_vdev_netvsc0 automatically: Hyper-V: CPUID says Microsoft Hv");
    }

    [SkippableFact]
    public void Startup_with_vmbus_in_the_tree_auto_probes_net_vdev_netvsc0()
    {
        using var lab = LabNetvsc.Create(output); // the real detection: the tree's /sys/bus/vmbus is enough
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup([]));

        Assert.Equal("net_vdev_netvsc0", Assert.Single(auto).Name);
        Assert.Equal(nv1, TapOf(Assert.Single(lab.FailsafePorts())).RemoteName);
        AssertLogged(lab, "probing net_vdev_netvsc0 automatically", "/sys/bus/vmbus exists");
    }

    [SkippableFact]
    public void Startup_off_hyper_v_without_vmbus_probes_nothing()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        lab.AddNetvsc(LabNetvsc.Mac(1));
        lab.AddNetvsc(LabNetvsc.Mac(2));

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup([]));

        Assert.Empty(auto);
        Assert.Empty(lab.Runtime.Vdev.Devices);
        Assert.Empty(lab.Runtime.Ports.All);
        Assert.Empty(lab.Driver.Devices);
        AssertLogged(lab, "no automatic net_vdev_netvsc: not Hyper-V");
    }

    [SkippableFact]
    public void Startup_with_the_real_detection_and_no_vmbus_in_the_tree_probes_nothing_off_hyper_v()
    {
        Skip.If(Hypervisor.ReadCpuid().Vendor == Hypervisor.HyperVSignature, "this machine runs on Hyper-V: CPUID alone calls for auto-probing");
        using var lab = LabNetvsc.Create(output);
        lab.AddWire(LabNetvsc.Mac(1));
        Assert.False(Directory.Exists(lab.Tree.P("/sys/bus/vmbus")));

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup([]));

        Assert.Empty(auto);
        Assert.Empty(lab.Runtime.Vdev.Devices);
    }

    [SkippableTheory]
    [InlineData("net_vdev_netvsc0")]
    [InlineData("net_vdev_netvsc7")]
    [InlineData("eth_vdev_netvsc0")]
    public void Startup_naming_a_netvsc_device_does_not_auto_probe_a_second_one(string name)
    {
        using var lab = LabNetvsc.Create(output, HyperVByCpuid);
        var (nv1, _) = lab.AddNetvsc(LabNetvsc.Mac(1));
        lab.AddNetvsc(LabNetvsc.Mac(2));

        IReadOnlyList<VdevDevice> auto = lab.Ns.Run(() => lab.Runtime.Vdev.ProbeStartup([$"{name},iface={nv1}"]));

        Assert.Empty(auto);
        Assert.Equal(name, Assert.Single(lab.Driver.Devices).Name);
        Assert.Single(lab.Runtime.Vdev.Devices, d => d.Driver is VdevNetvscDriver);
        Assert.Equal(nv1, TapOf(Assert.Single(lab.FailsafePorts())).RemoteName);
    }

    [SkippableFact]
    public void Removing_the_device_removes_its_ports_sub_devices_and_taps_and_stops_the_vf_check()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var mac = LabNetvsc.Mac(1);
        var (nv1, _) = lab.AddNetvsc(mac);
        var (nv2, _) = lab.AddNetvsc(LabNetvsc.Mac(2));
        lab.Probe("net_vdev_netvsc0,vf_poll=20");
        FailsafeEthDev fs = lab.FailsafePorts()[0];
        lab.Start(fs);
        var (vf, _) = lab.AddVf(mac);
        LabNetvsc.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Started, () => $"the VF never started: {LabNetvsc.Describe(fs)}");
        NetvscDevice device = Assert.Single(lab.Driver.Devices);
        IReadOnlyList<NetvscPortContext> contexts = device.Contexts;
        Assert.Equal(2, contexts.Count);
        Assert.True(lab.Runtime.Ports.All.Count >= 5, string.Join(", ", lab.Runtime.Ports.All.Select(p => p.Name))); // 2 failsafe, 2 TAP, 1 af_packet
        Assert.Equal(2, Taps(lab).Count);

        Assert.True(lab.Runtime.Vdev.Remove("net_vdev_netvsc0"));

        AssertNothingLeft(lab);
        Assert.All(contexts, c => Assert.Equal(Core.Ports.EthDevState.Closed, c.Port!.State));
        long checks = device.Checks;
        Thread.Sleep(200); // ten VF-check periods: none may run
        lab.Ns.SetDown(vf); // nor may a link event start one
        Thread.Sleep(50);
        Assert.Equal(checks, device.Checks);

        // The netdevs themselves are the host's: they stay.
        Assert.True(lab.Ns.LinkExists(nv1));
        Assert.True(lab.Ns.LinkExists(nv2));
        Assert.False(lab.Runtime.Vdev.Remove("net_vdev_netvsc0"));
    }

    [SkippableFact]
    public void Vf_of_a_port_with_two_queue_pairs_is_fed_with_qpairs_2_and_started()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var mac = LabNetvsc.Mac(1);
        var (nv, _) = lab.AddNetvsc(mac);
        lab.Probe($"net_vdev_netvsc0,iface={nv}");
        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        fs.Configure(2, 2);
        fs.SetupRxQueue(0, 512, lab.Pool);
        fs.SetupRxQueue(1, 512, lab.Pool);
        fs.SetupTxQueue(0, 512);
        fs.SetupTxQueue(1, 512);
        fs.Start();

        var (vf, _) = lab.AddVf(mac);

        LabNetvsc.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Started, () => $"the VF never started: {LabNetvsc.Describe(fs)}");
        NetvscPortContext ctx = Assert.Single(Assert.Single(lab.Driver.Devices).Contexts);
        Assert.Equal($"net_af_packet_vsc0,iface={vf},qpairs=2,steal=1", ctx.LastLine);
        var sub = fs.GetSubDevicePort(0)!;
        Assert.Equal("net_af_packet_vsc0", sub.Name);
        Assert.Equal(2, sub.RxQueueCount);
        Assert.Equal(2, sub.TxQueueCount);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        AssertLogged(lab, $"net_failsafe_vsc0 gets 'net_af_packet_vsc0,iface={vf},qpairs=2,steal=1'");
    }

    [SkippableFact]
    public void Tx_returns_to_the_vf_after_it_is_renamed_while_in_use()
    {
        using var lab = LabNetvsc.Create(output, Kvm);
        var mac = LabNetvsc.Mac(1);
        var (nv, nvPeer) = lab.AddNetvsc(mac);
        lab.Probe($"net_vdev_netvsc0,iface={nv}");
        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        lab.Start(fs);
        var onNetvsc = lab.Sink(nvPeer);
        var traffic = lab.Traffic(fs);

        long added = Stopwatch.GetTimestamp();
        var (vf, vfPeer) = lab.AddVf(mac, "0002:00:02.0");
        var onVf = lab.Sink(vfPeer);
        LabNetvsc.WaitUntil(() => onVf.FirstAfter(added) is not null && fs.TxSubDeviceIndex == 0, () => $"Tx never moved to the VF {vf}: {LabNetvsc.Describe(fs)}");

        // udev-style rename: down, new name (sysfs shows the new name, as the kernel's would), up.
        string renamed = NetNamespace.UniqueIfName("enP");
        lab.Tree.MarkPciVf(renamed, "0002:00:02.0");
        lab.Ns.SetDown(vf);
        lab.Ns.Ip("link", "set", vf, "name", renamed);
        lab.Ns.SetUp(renamed);
        long up = Stopwatch.GetTimestamp();

        LabNetvsc.WaitUntil(
            () => fs.TxSubDeviceIndex == 0 && fs.GetSubDeviceState(0) == SubDeviceState.Started && onVf.FirstAfter(up) is not null,
            () => $"Tx did not return to the renamed VF {renamed}: {LabNetvsc.Describe(fs)}; frames on VF wire after up: {onVf.CountAfter(up)}");
        output.WriteLine($"renamed {vf} -> {renamed}; first frame out of it {LabFrames.Ms(onVf.FirstAfter(up)!.Value.RxTimestamp - up):0.0} ms after it came up");
        LabNetvsc.WaitUntil(() => Assert.Single(Assert.Single(lab.Driver.Devices).Contexts).Vf?.Name == renamed, () => "the VF check did not follow the rename");

        // Settled: frames sent now all come out of the VF's peer.
        long from = Stopwatch.GetTimestamp();
        Thread.Sleep(300);
        long to = Stopwatch.GetTimestamp();
        Thread.Sleep(200);
        int onVfCount = onVf.CountSentBetween(from, to), onNetvscCount = onNetvsc.CountSentBetween(from, to);
        output.WriteLine($"after the rename, frames sent in 300 ms: {onVfCount} out of the VF wire, {onNetvscCount} out of the NetVSC wire");
        Assert.True(onVfCount > 20, $"only {onVfCount} frames out of the VF wire in 300 ms: {LabNetvsc.Describe(fs)}");
        Assert.Equal(0, onNetvscCount);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        traffic.Stop();
    }

    private static TapEthDev TapOf(FailsafeEthDev fs) =>
        Assert.IsType<TapEthDev>(fs.GetSubDevicePort(1));

    /// <summary>The TAP netdevs in the lab's namespace (dtapN: the names the TAP driver gets from the kernel).</summary>
    private static List<string> Taps(LabNetvsc lab)
    {
        using var doc = JsonDocument.Parse(lab.Ns.Ip("-j", "link", "show"));
        return [.. doc.RootElement.EnumerateArray()
            .Select(e => e.GetProperty("ifname").GetString()!)
            .Where(n => n.StartsWith("dtap", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
    }

    private static List<string> VdevNames(LabNetvsc lab) => [.. lab.Runtime.Vdev.Devices.Select(d => d.Name).Order(StringComparer.Ordinal)];

    private static void AssertNothingLeft(LabNetvsc lab)
    {
        Assert.Empty(lab.Runtime.Ports.All.Select(p => p.Name));
        Assert.Empty(lab.Runtime.Vdev.Devices.Select(d => d.Name));
        Assert.Empty(lab.Driver.Devices.Select(d => d.Name));
        Assert.Empty(Taps(lab));
    }

    private static void AssertLogged(LabNetvsc lab, params string[] parts)
    {
        var tail = lab.Log.Tail(2000).ToList();
        Assert.True(
            tail.Any(l => parts.All(p => l.Contains(p, StringComparison.Ordinal))),
            $"no log line with all of [{string.Join(" | ", parts)}]; last lines:\n{string.Join('\n', tail.TakeLast(30))}");
    }
}
