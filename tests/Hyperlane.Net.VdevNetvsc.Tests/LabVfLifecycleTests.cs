using System.Diagnostics;
using Hyperlane.Net.Failsafe;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// End to end, under traffic: one NetVSC netdev and a VF that comes, goes and comes back under another name.
/// The application transmits on the failsafe port the driver made; the test counts, on the far side of each
/// wire, where the frames went: the NetVSC wire (TAP remote= path) or the VF wire (af_packet on the VF).
/// </summary>
[Collection(LabNetvsc.Collection)]
public sealed class LabVfLifecycleTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Traffic_follows_the_vf_as_it_appears_vanishes_and_returns_under_another_name()
    {
        using var lab = LabNetvsc.Create(output);
        var mac = LabNetvsc.Mac(1);
        var (netvsc, netvscPeer) = lab.AddNetvsc(mac);
        lab.Probe($"net_vdev_netvsc0,iface={netvsc}");
        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        Assert.Equal("net_failsafe_vsc0", fs.Name);
        Assert.Equal(mac, fs.MacAddress);
        lab.Start(fs);

        var onNetvsc = lab.Sink(netvscPeer);
        var traffic = lab.Traffic(fs);

        // 1. No VF: everything goes through the TAP and out of the NetVSC netdev.
        LabNetvsc.WaitUntil(() => onNetvsc.Count > 50, () => $"no frames out of {netvsc} through the TAP: {LabNetvsc.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);

        // 2. The VF appears: Tx moves to it within 100 ms.
        string vfName = NetNamespace.UniqueIfName("hvf");
        long appeared = Stopwatch.GetTimestamp();
        var (vf, vfPeer) = lab.AddVf(mac, "0002:00:02.0", vfName);
        var onVf = lab.Sink(vfPeer);
        LabNetvsc.WaitUntil(() => onVf.FirstAfter(appeared) is not null, () => $"no frame on the VF wire: {LabNetvsc.Describe(fs)}");
        double toVfMs = LabFrames.Ms(onVf.FirstAfter(appeared)!.Value.RxTimestamp - appeared);
        output.WriteLine($"VF {vf} appeared -> first frame out of it after {toVfMs:0.0} ms");
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.True(toVfMs < 100, $"Tx moved to the VF {toVfMs:0.0} ms after it appeared (limit 100 ms)");
        AssertOnlyOn(onVf, onNetvsc, "VF present");

        // 3. The VF is deleted: traffic goes on through the TAP remote= path.
        long deleted = Stopwatch.GetTimestamp();
        lab.Ns.DeleteLink(vf);
        LabNetvsc.WaitUntil(() => onNetvsc.FirstAfter(deleted) is not null, () => $"no frame through the TAP after the VF went: {LabNetvsc.Describe(fs)}");
        output.WriteLine($"VF deleted -> first frame through the TAP after {LabFrames.Ms(onNetvsc.FirstAfter(deleted)!.Value.RxTimestamp - deleted):0.0} ms");
        LabNetvsc.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Undefined, () => $"the VF slot was not emptied: {LabNetvsc.Describe(fs)}");
        AssertOnlyOn(onNetvsc, null, "VF gone");

        // 4. It comes back under another name (and ifindex, and PCI address): traffic returns to it.
        string newName = NetNamespace.UniqueIfName("enP");
        long returned = Stopwatch.GetTimestamp();
        var (vf2, vf2Peer) = lab.AddVf(mac, "0003:00:02.0", newName);
        var onVf2 = lab.Sink(vf2Peer);
        LabNetvsc.WaitUntil(() => onVf2.FirstAfter(returned) is not null, () => $"no frame on the re-created VF {vf2}: {LabNetvsc.Describe(fs)}");
        output.WriteLine($"VF re-created as {vf2} -> first frame out of it after {LabFrames.Ms(onVf2.FirstAfter(returned)!.Value.RxTimestamp - returned):0.0} ms");
        Assert.Equal(0, fs.TxSubDeviceIndex);
        Assert.Equal($"net_af_packet_vsc0,iface={vf2},qpairs=1", lab.Driver.Devices.Single().Contexts.Single().LastLine);
        AssertOnlyOn(onVf2, onNetvsc, "VF back");

        traffic.Stop();
        Assert.True(traffic.Taken > 0);
        Assert.True(fs.TxSwitches >= 3, $"{fs.TxSwitches} Tx switches");
        var ctx = lab.Driver.Devices.Single().Contexts.Single();
        Assert.Equal(2, ctx.VfArrivals);
        Assert.Equal(1, ctx.VfDepartures);
    }

    /// <summary>
    /// The frames sent during a 300 ms window all come out of <paramref name="expected"/>, none out of
    /// <paramref name="other"/> (by the send time each frame carries, so frames in flight do not blur it).
    /// </summary>
    private void AssertOnlyOn(FrameSink expected, FrameSink? other, string stage)
    {
        long from = Stopwatch.GetTimestamp();
        Thread.Sleep(300);
        long to = Stopwatch.GetTimestamp();
        Thread.Sleep(200); // let the last of them arrive and be read
        int here = expected.CountSentBetween(from, to), there = other?.CountSentBetween(from, to) ?? 0;
        output.WriteLine($"{stage}: frames sent in 300 ms: {here} out of {expected.InterfaceName}, {there} out of {other?.InterfaceName ?? "-"}");
        Assert.True(here > 20, $"{stage}: only {here} frames out of {expected.InterfaceName} in 300 ms");
        Assert.Equal(0, there);
    }
}
