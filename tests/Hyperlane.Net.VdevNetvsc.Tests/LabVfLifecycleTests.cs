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
        using var links = lab.Ns.Run(() => new LinkWatch());

        // 1. No VF: everything goes through the TAP and out of the NetVSC netdev.
        LabNetvsc.WaitUntil(() => onNetvsc.Count > 50, () => $"no frames out of {netvsc} through the TAP: {LabNetvsc.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);

        // 2. The VF appears: Tx moves to it (how fast is the next test's business).
        string vfName = NetNamespace.UniqueIfName("hvf");
        long before = Stopwatch.GetTimestamp();
        var (vf, vfPeer) = lab.AddVf(mac, "0002:00:02.0", vfName);
        var onVf = lab.Sink(vfPeer);
        LabNetvsc.WaitUntil(() => onVf.FirstAfter(before) is not null, () => $"no frame on the VF wire: {LabNetvsc.Describe(fs)}");
        TimeToVf(links, onVf, vf, before);

        // Waited for, not read once: CI saw the index at 1 right after the VF's first frame (once, 2026-11-22;
        // the captured log shows a single switch to the VF). AssertOnlyOn then checks that Tx stays on the VF.
        LabNetvsc.WaitUntil(() => fs.TxSubDeviceIndex == 0, () => $"Tx did not settle on the VF: {LabNetvsc.Describe(fs)}");
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
        TimeToVf(links, onVf2, vf2, returned);
        LabNetvsc.WaitUntil(() => fs.TxSubDeviceIndex == 0, () => $"Tx did not settle on the returned VF: {LabNetvsc.Describe(fs)}");
        Assert.Equal($"net_af_packet_vsc0,iface={vf2},qpairs=1,steal=1", lab.Driver.Devices.Single().Contexts.Single().LastLine);
        AssertOnlyOn(onVf2, onNetvsc, "VF back");

        traffic.Stop();
        Assert.True(traffic.Taken > 0);
        Assert.True(fs.TxSwitches >= 3, $"{fs.TxSwitches} Tx switches");
        var ctx = lab.Driver.Devices.Single().Contexts.Single();
        Assert.Equal(2, ctx.VfArrivals);
        Assert.Equal(1, ctx.VfDepartures);
    }

    /// <summary>
    /// A VF that appears carries Tx within 100 ms of being usable (up, with carrier), taken as the median of 5
    /// arrivals: on this 2-core machine other test assemblies run beside the lab, and one arrival can sit behind
    /// them for a while. Each arrival is printed.
    /// </summary>
    [SkippableFact]
    public void A_new_vf_carries_tx_within_100_ms_of_being_usable()
    {
        using var lab = LabNetvsc.Create(output);
        var mac = LabNetvsc.Mac(3);
        var (netvsc, netvscPeer) = lab.AddNetvsc(mac);
        lab.Probe($"net_vdev_netvsc0,iface={netvsc}");
        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        lab.Start(fs);
        var onNetvsc = lab.Sink(netvscPeer);
        lab.Traffic(fs);
        using var links = lab.Ns.Run(() => new LinkWatch());
        LabNetvsc.WaitUntil(() => onNetvsc.Count > 20, () => $"no frames through the TAP: {LabNetvsc.Describe(fs)}");

        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            long before = Stopwatch.GetTimestamp();
            var (vf, vfPeer) = lab.AddVf(mac, $"000{i + 2}:00:02.0");
            var onVf = lab.Sink(vfPeer);
            LabNetvsc.WaitUntil(() => onVf.FirstAfter(before) is not null, () => $"arrival {i}: no frame on the VF wire: {LabNetvsc.Describe(fs)}");
            times.Add(TimeToVf(links, onVf, vf, before));
            lab.Ns.DeleteLink(vf);
            LabNetvsc.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Undefined, () => $"arrival {i}: the VF slot was not emptied: {LabNetvsc.Describe(fs)}");
        }

        double median = times.Order().ElementAt(times.Count / 2);
        output.WriteLine($"VF usable -> Tx on it: median {median:0.0} ms, each {string.Join(", ", times.Select(t => t.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        Assert.True(median < 100, $"Tx moved to a new VF {median:0.0} ms (median of 5) after it was usable (limit 100 ms)");
    }

    /// <summary>
    /// Milliseconds from the kernel announcing the VF up with carrier (the lab's own netlink watch) to the first
    /// frame out of its wire; printed with the time from its first announcement (created, still down).
    /// </summary>
    private double TimeToVf(LinkWatch links, FrameSink onVf, string vf, long before)
    {
        long first = onVf.FirstAfter(before)!.Value.RxTimestamp;
        var (seen, usable) = links.FindUp(vf, before);
        Assert.True(seen is not null && usable is not null, $"the lab's netlink watch never saw {vf} up with carrier");
        double fromUsable = Math.Max(0, LabFrames.Ms(first - usable!.Value)), fromSeen = LabFrames.Ms(first - seen!.Value);
        output.WriteLine($"VF {vf}: first frame out of it {fromUsable:0.0} ms after it was up with carrier, {fromSeen:0.0} ms after it appeared ({LabFrames.Ms(first - before):0.0} ms after the test began creating it)");
        return fromUsable;
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
