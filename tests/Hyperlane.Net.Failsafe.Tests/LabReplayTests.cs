using System.Text.Json;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Tap;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// The failsafe port's settings outlive its sub-devices: MTU, promiscuous mode and MAC set on the port are
/// applied to every sub-device at once and replayed on a veth that was deleted and re-created with its
/// original MAC and MTU, as the kernel shows.
/// </summary>
[Collection(LabFailsafe.Collection)]
public sealed class LabReplayTests(ITestOutputHelper output)
{
    private static readonly MacAddress PortMac = MacAddress.Parse("02:00:00:fe:00:01");

    [SkippableFact]
    public void Mtu_promiscuous_and_mac_are_replayed_on_a_recreated_veth()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var (a, b, macA, macB) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,dev(net_af_packet0,iface={a}),dev(net_tap0,iface={tap}),hotplug_poll=100");
        Assert.Equal(macA, fs.MacAddress); // the first sub-device's
        lab.Start(fs);

        fs.SetMtu(1400);
        fs.EnablePromiscuous();
        fs.SetMacAddress(PortMac);
        Assert.Equal(1400, fs.Mtu);
        Assert.True(fs.Promiscuous);
        Assert.Equal(PortMac, fs.MacAddress);

        // Applied at once to both sub-devices.
        ExpectReplayed(lab, a, "veth A before the deletion");
        ExpectReplayed(lab, tap, "the tap");
        Assert.Equal(1400, Assert.IsType<AfPacketEthDev>(fs.GetSubDevicePort(0)).InterfaceMtu);

        var first = fs.GetSubDevicePort(0);
        lab.Ns.DeleteLink(a);
        LabFailsafe.WaitUntil(() => fs.GetSubDevicePort(0) is null, () => $"the af_packet sub-device was not removed; {LabFailsafe.Describe(fs)}");
        lab.CreateVeth(a, b, macA, macB, mtu: 1500);
        LabFailsafe.WaitUntil(
            () => fs.GetSubDeviceState(0) == SubDeviceState.Started && fs.TxSubDeviceIndex == 0,
            () => $"the af_packet sub-device did not come back; {LabFailsafe.Describe(fs)}");
        var again = Assert.IsType<AfPacketEthDev>(fs.GetSubDevicePort(0));
        Assert.NotSame(first, again);
        Assert.Equal(lab.Ns.IfIndex(a), again.InterfaceIndex);

        // The kernel shows what the failsafe port was set to, not what the veth was created with.
        ExpectReplayed(lab, a, "veth A after it was re-created");
        var link = lab.Link(a);
        output.WriteLine($"veth A after re-creation: mtu {link.GetProperty("mtu")}, address {link.GetProperty("address")}, promiscuity {link.GetProperty("promiscuity")}, flags {link.GetProperty("flags")}");
        Assert.Equal(1400, again.InterfaceMtu);
        Assert.Equal(PortMac, again.MacAddress);
        Assert.True(again.Promiscuous);

        // And it carries the port's traffic.
        var bSink = lab.Sink(b);
        lab.Traffic(fs);
        LabFailsafe.WaitUntil(() => bSink.Count > 10, () => $"no frames on {b}: {LabFailsafe.Describe(fs)}");

        var tapPort = Assert.IsType<TapEthDev>(fs.GetSubDevicePort(1));
        Assert.Equal(PortMac, tapPort.MacAddress);
    }

    /// <summary>Waits until the kernel shows MTU 1400, the port's MAC and promiscuity on <paramref name="ifname"/>.</summary>
    private static void ExpectReplayed(LabFailsafe lab, string ifname, string what)
    {
        JsonElement link = default;
        LabFailsafe.WaitUntil(
            () =>
            {
                link = lab.Link(ifname);
                return link.GetProperty("mtu").GetInt32() == 1400
                    && MacAddress.Parse(link.GetProperty("address").GetString()!) == PortMac
                    && IsPromiscuous(link);
            },
            () => $"{what}: {link}",
            TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Promiscuous as the kernel counts it: af_packet asks for it with PACKET_MR_PROMISC (the interface's
    /// promiscuity count, which ip -d shows), the tap with IFF_PROMISC (the PROMISC flag, also counted).
    /// </summary>
    private static bool IsPromiscuous(JsonElement link) =>
        (link.TryGetProperty("promiscuity", out var p) && p.GetInt32() > 0)
        || link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "PROMISC");
}
