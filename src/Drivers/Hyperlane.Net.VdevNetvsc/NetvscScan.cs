using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// One discovery pass: every NetVSC netdev with its VF, every other netdev with the reason it is not one,
/// and the VMBus network devices (including those uio_hv_generic holds, which have no netdev).
/// </summary>
/// <param name="Interfaces">The NetVSC netdevs, by ifindex.</param>
/// <param name="Skipped">Every other netdev, with a reason.</param>
/// <param name="VmbusDevices">VMBus devices of the NetVSC class, by id.</param>
/// <param name="Problems">Things that stopped part of the pass (e.g. /sys/class/net unreadable); empty normally.</param>
public sealed record NetvscScan(
    IReadOnlyList<NetvscInterface> Interfaces,
    IReadOnlyList<SkippedInterface> Skipped,
    IReadOnlyList<VmbusNetDevice> VmbusDevices,
    IReadOnlyList<string> Problems)
{
    /// <summary>What the driver attaches to without iface=/mac=: every unrouted NetVSC netdev.</summary>
    public NetvscSelection SelectDefault() => NetvscSelection.Default(this);

    /// <summary>The NetVSC netdev called <paramref name="name"/>, or null.</summary>
    public NetvscInterface? FindByName(string name)
    {
        foreach (NetvscInterface i in Interfaces)
        {
            if (i.Name == name)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>The NetVSC netdev with <paramref name="mac"/>, or null.</summary>
    public NetvscInterface? FindByMac(MacAddress mac)
    {
        foreach (NetvscInterface i in Interfaces)
        {
            if (i.Mac == mac)
            {
                return i;
            }
        }

        return null;
    }
}
