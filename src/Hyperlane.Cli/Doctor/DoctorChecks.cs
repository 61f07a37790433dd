using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Net.VdevNetvsc;

namespace Hyperlane.Cli.Doctor;

/// <summary>Turns the facts of a <see cref="DoctorReport"/> into verdicts with one-line hints (docs/doctor.md explains each).</summary>
public static class DoctorChecks
{
    public static IReadOnlyList<DoctorCheck> Evaluate(DoctorReport facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var checks = new List<DoctorCheck> { Hypervisor(facts.Hypervisor) };
        NetvscChecks(facts, checks);
        VmbusChecks(facts, checks);
        checks.Add(Hugepages(facts.Hugepages));
        checks.Add(Tun(facts.Tun));
        checks.Add(CapabilitiesCheck(facts.Capabilities));
        foreach (KernelFeature f in facts.KernelFeatures)
        {
            checks.Add(Kernel(f, facts.Hypervisor.IsHyperV));
        }

        checks.Add(AfXdp(facts.AfXdp));
        checks.Add(Vdev(facts));
        return checks;
    }

    private static DoctorCheck Hypervisor(Hypervisor h)
    {
        string cpuid = !h.CpuidAvailable ? "CPUID not available (not x86)"
            : !h.HypervisorBit ? "CPUID: no hypervisor"
            : $"CPUID vendor \"{h.CpuidVendor}\"";
        string vmbus = h.VmbusPresent ? "/sys/bus/vmbus present" : "/sys/bus/vmbus absent";
        if (h.CpuidSaysHyperV && h.VmbusPresent)
        {
            return new("hypervisor", "hypervisor", DoctorStatus.Ok, $"Hyper-V ({cpuid}); {vmbus}",
                "net_vdev_netvsc is probed automatically here unless you pass --vdev net_vdev_netvsc0,ignore=1");
        }

        if (h.VmbusPresent)
        {
            return new("hypervisor", "hypervisor", DoctorStatus.Ok, $"Hyper-V ({vmbus}; {cpuid})",
                "VMBus without the CPUID signature (e.g. an arm64 guest): net_vdev_netvsc is still probed automatically");
        }

        if (h.CpuidSaysHyperV)
        {
            return new("hypervisor", "hypervisor", DoctorStatus.Warn, $"{cpuid}, but {vmbus}",
                "Hyper-V enlightenments without VMBus (e.g. KVM with hv-* flags, or a kernel without hv_vmbus): no NetVSC devices can exist");
        }

        return new("hypervisor", "hypervisor", DoctorStatus.Info, $"not Hyper-V ({cpuid}); {vmbus}",
            "no NetVSC here: name ports with --vdev (net_tap, net_af_packet, ...); the other checks still apply");
    }

    private static void NetvscChecks(DoctorReport facts, List<DoctorCheck> checks)
    {
        if (facts.Scan is not { } scan)
        {
            checks.Add(new("netvsc", "netvsc", DoctorStatus.Fail, $"cannot list network interfaces: {facts.ScanError}",
                "doctor asks the kernel through rtnetlink (NETLINK_ROUTE); check seccomp or container restrictions"));
            return;
        }

        foreach (string problem in scan.Problems)
        {
            checks.Add(new("sysfs", "sysfs", DoctorStatus.Warn, problem, "discovery could not read part of sysfs; NetVSC netdevs there are not seen"));
        }

        if (scan.Interfaces.Count == 0)
        {
            bool expected = facts.Hypervisor.IsHyperV;
            checks.Add(new("netvsc", "netvsc", expected ? DoctorStatus.Warn : DoctorStatus.Info, "no NetVSC network interface",
                expected
                    ? "on Hyper-V: VMBus network devices bound to uio_hv_generic have no netdev (see the vmbus lines); rebind them to hv_netvsc for net_vdev_netvsc"
                    : "NetVSC netdevs exist only on Hyper-V/Azure VMs"));
        }

        foreach (NetvscInterface i in scan.Interfaces)
        {
            checks.Add(Netvsc(i, facts.Selection));
        }

        foreach (SkippedInterface s in scan.Skipped)
        {
            if (s.Kind == SkipKind.Unusable)
            {
                checks.Add(new($"skipped:{s.Name}", $"skipped {s.Name}", DoctorStatus.Warn, s.Reason,
                    "sysfs does not describe this interface in a way Hyperlane can trust; it is ignored"));
            }
            else if (s.Kind == SkipKind.NotInNamespace)
            {
                checks.Add(new($"skipped:{s.Name}", $"skipped {s.Name}", DoctorStatus.Info, s.Reason,
                    "sysfs shows the netdevs of the namespace that mounted it; run doctor in the namespace that has the interface"));
            }
        }
    }

    private static DoctorCheck Netvsc(NetvscInterface i, NetvscSelection? selection)
    {
        string routed = i.IsRouted ? $"routed ({string.Join(", ", i.Addresses)})" : "unrouted";
        string vf = i.Vf is { } v
            ? string.Create(CultureInfo.InvariantCulture, $"VF {v.Name} (ifindex {v.IfIndex}, PCI {v.PciAddress}, driver {v.DriverText}{(v.IsEnslaved ? ", enslaved" : string.Empty)})")
            : "no VF";
        string detail = string.Create(CultureInfo.InvariantCulture, $"MAC {i.Mac}, ifindex {i.IfIndex}, {routed}, driver {i.DriverText}; {vf}");
        string id = $"netvsc:{i.Name}";
        string title = $"netvsc {i.Name}";
        if (i.IsRouted)
        {
            string hint = NetvscSelection.RoutedReason(i);
            if (OnlyLinkLocal(i.Addresses))
            {
                hint += $" (only an IPv6 link-local address: sysctl -w net.ipv6.conf.{i.Name}.disable_ipv6=1 makes it unrouted)";
            }

            return new(id, title, DoctorStatus.Info, detail, hint);
        }

        int index = -1;
        if (selection is not null)
        {
            for (int k = 0; k < selection.Selected.Count; k++)
            {
                if (selection.Selected[k].IfIndex == i.IfIndex)
                {
                    index = k;
                }
            }
        }

        string use = index >= 0 ? string.Create(CultureInfo.InvariantCulture, $"used by default as {selection!.VdevArguments[index]}") : "not selected";
        if (i.Driver is null)
        {
            return new(id, title, DoctorStatus.Warn, detail, $"{use}; its driver link is odd: {i.DriverProblem}");
        }

        if (i.Vf is null)
        {
            return new(id, title, DoctorStatus.Warn, detail,
                $"{use}; no VF: accelerated networking is off or the VF is away (host servicing), so traffic takes the slower synthetic path until one appears");
        }

        if (i.Vf.Driver is null)
        {
            return new(id, title, DoctorStatus.Warn, detail, $"{use}; the VF has no kernel driver ({i.Vf.DriverProblem}): Hyperlane drives the VF through its netdev, so bind mlx5_core/mana");
        }

        return new(id, title, DoctorStatus.Ok, detail, $"{use}; Tx/Rx go through the VF while it is present, through the TAP path when it is not");
    }

    private static bool OnlyLinkLocal(IReadOnlyList<string> addresses)
    {
        foreach (string a in addresses)
        {
            int slash = a.IndexOf('/', StringComparison.Ordinal);
            if (!System.Net.IPAddress.TryParse(slash < 0 ? a : a[..slash], out System.Net.IPAddress? ip) || !ip.IsIPv6LinkLocal)
            {
                return false;
            }
        }

        return addresses.Count > 0;
    }

    private static void VmbusChecks(DoctorReport facts, List<DoctorCheck> checks)
    {
        if (facts.Scan is not { } scan || !facts.Hypervisor.VmbusPresent)
        {
            return;
        }

        if (scan.VmbusDevices.Count == 0)
        {
            checks.Add(new("vmbus", "vmbus", DoctorStatus.Info, "no VMBus network device", "this VM has no synthetic NIC, or /sys/bus/vmbus/devices cannot be read"));
            return;
        }

        foreach (VmbusNetDevice d in scan.VmbusDevices)
        {
            string id = $"vmbus:{d.Id}";
            string title = $"vmbus {d.Id}";
            string netdev = d.NetDevice is { } n ? $", netdev {n}" : ", no netdev";
            string detail = $"driver {d.Driver}{netdev}{(d.Problem is null ? string.Empty : "; " + d.Problem)}";
            checks.Add(d.Driver switch
            {
                "hv_netvsc" => new(id, title, DoctorStatus.Ok, detail, "bound to the kernel's NetVSC driver: what net_vdev_netvsc uses"),
                "uio_hv_generic" => new(id, title, DoctorStatus.Info, detail,
                    "bound for a user-space VMBus driver (DPDK's net_netvsc); net_vdev_netvsc needs hv_netvsc: echo " + d.Id + " > /sys/bus/vmbus/drivers/uio_hv_generic/unbind; echo " + d.Id + " > /sys/bus/vmbus/drivers/hv_netvsc/bind"),
                VmbusNetDevice.Unbound => new(id, title, DoctorStatus.Warn, detail, $"no driver holds it: echo {d.Id} > /sys/bus/vmbus/drivers/hv_netvsc/bind"),
                _ => new(id, title, DoctorStatus.Warn, detail, "an unexpected driver holds it; net_vdev_netvsc needs hv_netvsc"),
            });
        }
    }

    private static DoctorCheck Hugepages(IReadOnlyList<HugepagePool> pools)
    {
        var parts = new List<string>();
        long free = 0, reserved = 0;
        foreach (HugepagePool p in pools)
        {
            parts.Add(p.Present
                ? string.Create(CultureInfo.InvariantCulture, $"{p.SizeText}: {p.Reserved} reserved, {p.Free} free")
                : $"{p.SizeText}: not offered by the kernel");
            free += p.Free;
            reserved += p.Reserved;
        }

        string detail = string.Join("; ", parts);
        if (free > 0)
        {
            return new("hugepages", "hugepages", DoctorStatus.Ok, detail, "mempools use hugetlb pages");
        }

        return reserved > 0
            ? new("hugepages", "hugepages", DoctorStatus.Warn, detail, "all reserved hugepages are in use: Hyperlane falls back to 4 KiB pages; reserve more or stop their users")
            : new("hugepages", "hugepages", DoctorStatus.Info, detail,
                "none reserved: Hyperlane uses 4 KiB pages with MADV_HUGEPAGE; for the best rates: echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    }

    private static DoctorCheck Tun(TunDevice t) =>
        t.Present && t.Openable
            ? new("tun", "/dev/net/tun", DoctorStatus.Ok, "present and opens read-write", "net_tap (vdev_netvsc's fallback path, remote=) can create TAPs")
            : new("tun", "/dev/net/tun", DoctorStatus.Fail, t.Error ?? "unusable",
                t.Present
                    ? "net_tap needs to open it: run as root (or with CAP_NET_ADMIN) and check the device's permissions"
                    : "net_tap (vdev_netvsc's fallback path) needs it: modprobe tun, or mount /dev/net/tun into the container");

    private static DoctorCheck CapabilitiesCheck(Capabilities c)
    {
        if (c.Effective is null)
        {
            return new("capabilities", "capabilities", DoctorStatus.Warn, c.Problem ?? "unknown", "cannot tell whether this process may create TAPs, tc rules and raw sockets");
        }

        string detail = $"CapEff {c.EffectiveHex}: CAP_NET_ADMIN {(c.HasNetAdmin ? "yes" : "no")}, CAP_NET_RAW {(c.HasNetRaw ? "yes" : "no")}";
        if (c.HasNetAdmin && c.HasNetRaw)
        {
            return new("capabilities", "capabilities", DoctorStatus.Ok, detail, "TAPs, tc rules, promiscuous mode and packet sockets are allowed");
        }

        var missing = new List<string>();
        if (!c.HasNetAdmin)
        {
            missing.Add("CAP_NET_ADMIN (TAPs, tc, link settings)");
        }

        if (!c.HasNetRaw)
        {
            missing.Add("CAP_NET_RAW (AF_PACKET, AF_XDP)");
        }

        return new("capabilities", "capabilities", DoctorStatus.Fail, detail,
            $"missing {string.Join(" and ", missing)}: run as root, or setcap cap_net_admin,cap_net_raw+ep on the program");
    }

    private static DoctorCheck Kernel(KernelFeature f, bool hyperV)
    {
        string id = $"kernel:{f.Module}";
        string title = $"kernel {f.Module}";
        string detail = $"{f.Purpose}: {f.State.ToString().ToLowerInvariant()} ({f.Evidence})";
        switch (f.Module)
        {
            case "cls_flower":
                return f.IsUsable
                    ? new(id, title, DoctorStatus.Ok, detail, "present; Hyperlane does not need it (its remote= rules use u32)")
                    : new(id, title, DoctorStatus.Info, detail,
                        "not needed: Hyperlane's net_tap remote= uses u32 (DPDK's tap needs flower)");
            case "uio_hv_generic":
                return new(id, title, f.IsUsable ? DoctorStatus.Ok : DoctorStatus.Info, detail,
                    hyperV
                        ? "only for user-space VMBus drivers (DPDK's net_netvsc); net_vdev_netvsc does not need it"
                        : "only for user-space VMBus drivers on Hyper-V; not needed here");
            default:
                if (f.IsUsable)
                {
                    return new(id, title, DoctorStatus.Ok, detail, "net_tap remote= (vdev_netvsc's fallback path) can install its ingress/u32/mirred rules");
                }

                return f.State == ModuleState.Unknown
                    ? new(id, title, DoctorStatus.Warn, detail, "cannot tell from files; net_tap remote= needs it and reports the kernel's error if it is missing")
                    : new(id, title, DoctorStatus.Fail, detail, "net_tap remote= (vdev_netvsc's fallback path) needs it: install the kernel's modules package (e.g. linux-modules-extra) or use a kernel with it built in");
        }
    }

    private static DoctorCheck AfXdp(AfXdpSupport x) =>
        x.Supported
            ? new("af_xdp", "AF_XDP", DoctorStatus.Ok, "socket(AF_XDP) works", "XDP sockets are available to this process")
            : new("af_xdp", "AF_XDP", DoctorStatus.Warn, x.Error ?? "unavailable",
                (x.Error ?? string.Empty).Contains("EAFNOSUPPORT", StringComparison.Ordinal)
                    ? "the kernel has no XDP sockets (CONFIG_XDP_SOCKETS); AF_PACKET ports still work"
                    : "XDP sockets need CAP_NET_RAW (and often CAP_BPF/CAP_SYS_ADMIN); AF_PACKET ports still work");

    private static DoctorCheck Vdev(DoctorReport facts)
    {
        if (facts.VdevArguments.Count > 0)
        {
            return new("vdev", "vdev", DoctorStatus.Ok, facts.VdevText,
                $"e.g. hyperlane testpmd {facts.VdevText} -- --forward-mode=io; with no --vdev at all a Hyper-V VM gets the same by auto-probe");
        }

        return new("vdev", "vdev", DoctorStatus.Info, facts.VdevText,
            facts.Scan is { Interfaces.Count: > 0 }
                ? "every NetVSC interface has addresses; naming one with iface= takes it from the host (you lose that connection)"
                : "no NetVSC port here; use --vdev net_tap0,iface=NAME or net_af_packet0,iface=NAME on other machines");
    }
}
