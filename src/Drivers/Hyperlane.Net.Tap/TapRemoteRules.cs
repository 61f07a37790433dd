namespace Hyperlane.Net.Tap;

/// <summary>
/// The implicit rules of remote mode (dpdk-drivers.md §6.3, with u32 instead of flower) and their tc
/// priorities. A lower priority number is tried first, so the order is DPDK's: local MAC, then
/// promiscuous, all-multicast, broadcast, IPv6 multicast. The first match ends classification (mirred
/// mirror returns TC_ACT_PIPE), so a frame is never delivered twice. docs/drivers/tap.md has the table.
/// </summary>
internal static class TapRemoteRules
{
    /// <summary>tc parent of the ingress qdisc (ffff:0000).</summary>
    public const uint IngressParent = 0xFFFF0000;

    /// <summary>On the TAP's ingress: everything the application sends → redirect to the remote's egress.</summary>
    public const ushort Tx = 0xF001;

    /// <summary>On the remote's ingress: dst MAC == the port's MAC → redirect to the TAP.</summary>
    public const ushort LocalMac = 0xF001;

    /// <summary>On the remote's ingress, while promiscuous: everything → mirror to the TAP.</summary>
    public const ushort Promiscuous = 0xF002;

    /// <summary>On the remote's ingress, while all-multicast: dst with the group bit → mirror to the TAP.</summary>
    public const ushort AllMulticast = 0xF003;

    /// <summary>On the remote's ingress: dst ff:ff:ff:ff:ff:ff → mirror to the TAP.</summary>
    public const ushort Broadcast = 0xF004;

    /// <summary>On the remote's ingress: dst 33:33:xx:xx:xx:xx → mirror to the TAP.</summary>
    public const ushort BroadcastV6 = 0xF005;

    /// <summary>Priorities of the rules on the remote, for clean-up.</summary>
    public static readonly ushort[] OnRemote = [LocalMac, Promiscuous, AllMulticast, Broadcast, BroadcastV6];
}
