using Hyperlane.Net.Failsafe;
using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// One NetVSC netdev the device attached to: the failsafe port over it, the pipe that feeds the port its VF,
/// and what the last VF check found. Used under the device's lock.
/// </summary>
public sealed class NetvscPortContext
{
    internal NetvscPortContext(int id, NetvscTarget target, VfFeed feed)
    {
        Id = id;
        NetdevName = target.Name;
        NetdevIndex = target.IfIndex;
        Mac = target.Mac;
        Feed = feed;
        FailsafeName = $"net_failsafe_vsc{id}";
        TapName = $"net_tap_vsc{id}";
        VfDeviceName = $"net_af_packet_vsc{id}";
    }

    /// <summary>N in net_failsafe_vscN, net_tap_vscN and net_af_packet_vscN.</summary>
    public int Id { get; }

    /// <summary>The NetVSC netdev's name now (followed through renames by ifindex).</summary>
    public string NetdevName { get; internal set; }

    public int NetdevIndex { get; }

    public MacAddress Mac { get; }

    public string FailsafeName { get; }

    /// <summary>The fallback sub-device: a TAP with remote= the NetVSC netdev.</summary>
    public string TapName { get; }

    /// <summary>The device name the VF sub-device is probed under.</summary>
    public string VfDeviceName { get; }

    /// <summary>The failsafe port, once probed.</summary>
    public FailsafeEthDev? Port { get; internal set; }

    /// <summary>The VF the last check found, or null.</summary>
    public NetvscVf? Vf { get; internal set; }

    /// <summary>The last devargs line fed to the failsafe port, or null.</summary>
    public string? LastLine { get; internal set; }

    /// <summary>Times a VF appeared (or changed) under this netdev.</summary>
    public long VfArrivals { get; internal set; }

    /// <summary>Times the VF went away.</summary>
    public long VfDepartures { get; internal set; }

    /// <summary>True once a write into the pipe failed for good: the VF is not fed any more.</summary>
    public bool FeedBroken { get; internal set; }

    /// <summary>The feed into the failsafe port's fd() source.</summary>
    public VfFeed Feed { get; }

    /// <summary>The failsafe devargs: <c>net_failsafe_vscN,fd(R),dev(net_tap_vscN,remote=NETDEV),mac=MAC</c>.</summary>
    internal string FailsafeDevargs(int readFd) =>
        FormattableString.Invariant($"{FailsafeName},fd({readFd}),dev({TapName},remote={NetdevName}),mac={Mac}");

    /// <summary>The line that makes the failsafe port drive <paramref name="vf"/> through AF_PACKET.</summary>
    internal string VfLine(NetvscVf vf, int queuePairs) =>
        FormattableString.Invariant($"{VfDeviceName},iface={vf.Name},qpairs={queuePairs},steal=1");
}
