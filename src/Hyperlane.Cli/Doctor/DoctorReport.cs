using Hyperlane.Linux;
using Hyperlane.Net.VdevNetvsc;

namespace Hyperlane.Cli.Doctor;

/// <summary>Everything <c>hyperlane doctor</c> found, and its verdicts.</summary>
/// <param name="Root">The host root the files were read under ("/" normally).</param>
/// <param name="KernelRelease">/proc/sys/kernel/osrelease, or null.</param>
/// <param name="Hypervisor">CPUID vendor and /sys/bus/vmbus, separately.</param>
/// <param name="Scan">NetVSC discovery, or null when the kernel could not be asked (see <paramref name="ScanError"/>).</param>
/// <param name="ScanError">Why there is no scan.</param>
/// <param name="Selection">What net_vdev_netvsc would attach to by default.</param>
/// <param name="Hugepages">2 MiB and 1 GiB pools.</param>
/// <param name="Tun">/dev/net/tun.</param>
/// <param name="Capabilities">CapEff.</param>
/// <param name="KernelFeatures">tc and VMBus modules.</param>
/// <param name="AfXdp">socket(AF_XDP).</param>
/// <param name="VdevArguments">The --vdev arguments Hyperlane would use (empty: none).</param>
/// <param name="VdevText">The same for a person: "--vdev net_vdev_netvsc0,iface=eth1" or "none: no NetVSC interface".</param>
/// <param name="Checks">The verdicts, in report order.</param>
public sealed record DoctorReport(
    string Root,
    string? KernelRelease,
    Hypervisor Hypervisor,
    NetvscScan? Scan,
    string? ScanError,
    NetvscSelection? Selection,
    IReadOnlyList<HugepagePool> Hugepages,
    TunDevice Tun,
    Capabilities Capabilities,
    IReadOnlyList<KernelFeature> KernelFeatures,
    AfXdpSupport AfXdp,
    IReadOnlyList<string> VdevArguments,
    string VdevText,
    IReadOnlyList<DoctorCheck> Checks)
{
    /// <summary>How many checks have <paramref name="status"/>.</summary>
    public int Count(DoctorStatus status)
    {
        int n = 0;
        foreach (DoctorCheck c in Checks)
        {
            if (c.Status == status)
            {
                n++;
            }
        }

        return n;
    }
}
