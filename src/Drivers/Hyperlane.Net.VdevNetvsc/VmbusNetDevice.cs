namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// A VMBus network device (<c>/sys/bus/vmbus/devices/ID</c> with the NetVSC class_id), whichever driver
/// holds it: hv_netvsc (then it has a netdev), uio_hv_generic (bound for a native user-space driver, no
/// netdev), or none.
/// </summary>
/// <param name="Id">The device directory name: the VMBus instance GUID.</param>
/// <param name="Driver">Basename of its driver link, or "unbound".</param>
/// <param name="NetDevice">The netdev name under its net/ directory, when there is one.</param>
/// <param name="Problem">Something odd about the entry (a broken driver link), or null.</param>
public sealed record VmbusNetDevice(string Id, string Driver, string? NetDevice, string? Problem)
{
    /// <summary>The driver value when no driver is bound.</summary>
    public const string Unbound = "unbound";

    public bool IsBound => Driver != Unbound;
}
