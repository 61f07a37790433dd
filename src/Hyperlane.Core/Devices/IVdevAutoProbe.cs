namespace Hyperlane.Core.Devices;

/// <summary>
/// A vdev driver that probes a device by itself at start-up when the machine calls for it and the user named
/// none of its devices (DPDK's custom vdev scan: net_vdev_netvsc on Hyper-V). <see cref="VdevBus.ProbeStartup"/>
/// asks it.
/// </summary>
public interface IVdevAutoProbe
{
    /// <summary>
    /// The devargs to probe (e.g. "net_vdev_netvsc0"), or null when this machine does not call for the driver.
    /// <paramref name="reason"/> says why, either way, for the log.
    /// </summary>
    string? AutoProbeDevargs(out string reason);
}
