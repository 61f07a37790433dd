using System.Diagnostics;
using System.Globalization;
using Hyperlane.Core.Ports;
using Hyperlane.Net.AfPacket;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// Failover under traffic: net_failsafe over af_packet (veth A, preferred) and a tap, a thread transmitting on
/// the failsafe port. Deleting veth A must move Tx to the tap within 50 ms (the gap between the last frame
/// seen on veth B and the first seen on the tap); re-creating the veth brings Tx back to it.
/// </summary>
[Collection(LabFailsafe.Collection)]
public sealed class LabFailoverTests(ITestOutputHelper output)
{
    /// <summary>The most a failover may take (the requirement), measured between the kernel-side readers.</summary>
    private const double MaxGapMs = 50;

    /// <summary>
    /// A cycle over the limit that measured an overcommitted machine rather than the failsafe port (CI runs the
    /// test projects side by side on 2 cores) is reported and run again, a few times at most: a thread sleeping
    /// 1 ms at a time did not run for <see cref="FailoverRig.OverloadStallMs"/>, or the kernel itself took
    /// <see cref="FailoverRig.SlowKernelMs"/> between taking veth A down and announcing its deletion while the
    /// failsafe then switched in under <see cref="FailoverRig.FastReactionMs"/>. A slow failover on an idle
    /// machine, or a slow reaction of the failsafe itself, still fails.
    /// </summary>
    private const int MaxRerunOfFifty = 10;

    [SkippableFact]
    public void Deleting_the_veth_moves_tx_to_the_tap_within_50ms_and_recreating_it_brings_tx_back()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var rig = FailoverRig.Start(lab);
        Assert.Equal(0, rig.Port.TxSubDeviceIndex);
        Assert.IsType<AfPacketEthDev>(rig.Port.GetSubDevicePort(0));
        Assert.Equal(0, rig.TapSink.Count); // the tap carries nothing while the veth is there

        var (measured, rerun) = rig.Cycles(1, MaxGapMs, maxRerun: 3);
        var c = Assert.Single(measured);
        foreach (var r in rerun.Append(c))
        {
            output.WriteLine(r.ToString());
        }

        Assert.True(c.GapMs < MaxGapMs, $"failover gap {c.GapMs:0.00} ms (last frame on {rig.B} to first on {rig.Tap}); limit {MaxGapMs} ms");
        Assert.True(c.TapFramesWhileVethGone > 0);

        // Back on the veth: the tap gets nothing new once the switch is done.
        Assert.Equal(0, rig.Port.TxSubDeviceIndex);
        Assert.Equal(SubDeviceState.Started, rig.Port.GetSubDeviceState(0));
        var again = Assert.IsType<AfPacketEthDev>(rig.Port.GetSubDevicePort(0));
        Assert.Equal(lab.Ns.IfIndex(rig.A), again.InterfaceIndex); // bound to the new interface
        Thread.Sleep(50);
        rig.TapSink.Settle();
        int tapCount = rig.TapSink.Count;
        int bCount = rig.BSink.Count;
        Thread.Sleep(200);
        rig.TapSink.Settle();
        Assert.Equal(tapCount, rig.TapSink.Count);
        Assert.True(rig.BSink.Count > bCount + 20, $"veth B got {rig.BSink.Count - bCount} frames in 200 ms");
        Assert.Equal(1 + rerun.Count, rig.Port.Removals);

        rig.Traffic.Stop();
        Assert.Equal(rig.Traffic.Taken, rig.Port.GetStats().TxPackets);
        lab.DisposeRuntime();
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    [SkippableFact]
    public void Fifty_delete_and_recreate_cycles_under_traffic_keep_every_gap_under_50ms_and_stats_monotonic()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        const int Cycles = 50;
        using var lab = LabFailsafe.Create(output);
        var rig = FailoverRig.Start(lab);
        long switchesBefore = rig.Port.TxSwitches;

        using var sampler = new StatsSampler(rig.Port);
        var sw = Stopwatch.StartNew();
        var (results, rerun) = rig.Cycles(Cycles, MaxGapMs, MaxRerunOfFifty);
        sw.Stop();
        rig.Traffic.Stop();
        sampler.Stop();

        var gaps = results.Select(r => r.GapMs).Order().ToList();
        var txGaps = results.Select(r => r.TxGapMs).Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Cycles} cycles (+{rerun.Count} run again: machine overloaded) in {sw.Elapsed.TotalSeconds:0.0} s; failover gap (last frame on veth B to first on the tap, as read): max {gaps[^1]:0.00} ms, median {Median(gaps):0.00} ms, min {gaps[0]:0.00} ms; by the frames' Tx stamps: max {txGaps[^1]:0.00} ms, median {Median(txGaps):0.00} ms"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stats samples {sampler.Samples}, Tx taken {rig.Traffic.Taken} of {rig.Traffic.Offered} offered, removals {rig.Port.Removals}, Tx switches {rig.Port.TxSwitches - switchesBefore}"));
        foreach (var r in results.Concat(rerun).OrderBy(r => r.Index))
        {
            output.WriteLine(r.ToString() + (rerun.Contains(r) ? " (overloaded: run again)" : string.Empty));
        }

        Assert.Empty(sampler.Failures);
        Assert.True(sampler.Samples > 100, $"only {sampler.Samples} stats samples");
        Assert.All(results, r => Assert.True(r.GapMs < MaxGapMs, $"cycle {r.Index}: failover gap {r.GapMs:0.00} ms; limit {MaxGapMs} ms"));
        Assert.Equal(Cycles + rerun.Count, rig.Port.Removals);
        Assert.Equal(2 * (Cycles + rerun.Count), rig.Port.TxSwitches - switchesBefore);

        // Stats count every packet the sub-devices took, across 50 removals.
        var stats = rig.Port.GetStats();
        Assert.Equal(rig.Traffic.Taken, stats.TxPackets);
        Assert.Equal(rig.Traffic.Taken * LabFrames.Length, stats.TxBytes);

        lab.DisposeRuntime();
        var audit = lab.Pool.Audit();
        Assert.True(audit.IsFull, $"mempool audit after the runtime is disposed: {audit}");
        Assert.Equal(0, lab.Pool.DoubleFreeCount);
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <summary>One delete/re-create cycle: the failover gap as read by the kernel-side readers and by the frames' Tx stamps.</summary>
/// <remarks>
/// <see cref="KernelMs"/>: from veth A going down (RTM_NEWLINK without IFF_UP, sent at once by <c>ip link del</c>)
/// to the kernel announcing its deletion (RTM_DELLINK), both as seen by the lab's own netlink monitor: the
/// failsafe acts on the deletion, so this is part of every gap. <see cref="ReactionMs"/>: from that
/// announcement to the first frame on the tap.
/// </remarks>
internal readonly record struct CycleResult(int Index, double GapMs, double TxGapMs, double StallMs, double KernelMs, double ReactionMs, double DeleteMs, double BackMs, int TapFramesWhileVethGone)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"cycle {Index}: gap {GapMs:0.00} ms (Tx stamps {TxGapMs:0.00} ms; kernel down-to-deleted {KernelMs:0.0} ms, then to the tap {ReactionMs:0.0} ms; longest scheduling stall {StallMs:0.0} ms), ip link del {DeleteMs:0.0} ms, back on the veth {BackMs:0.0} ms after re-creating it, {TapFramesWhileVethGone} frames on the tap");
}

/// <summary>
/// <c>net_failsafe0,dev(net_af_packet0,iface=A),dev(net_tap0,iface=T),hotplug_poll=100</c>, started, under
/// traffic, with readers on veth B and on the tap netdev.
/// </summary>
internal sealed class FailoverRig
{
    private int cycles;

    private FailoverRig(LabFailsafe lab, FailsafeEthDev port, string a, string b, MacAddress macA, MacAddress macB, string tap)
    {
        Lab = lab;
        Port = port;
        A = a;
        B = b;
        MacA = macA;
        MacB = macB;
        Tap = tap;
    }

    public LabFailsafe Lab { get; }

    public FailsafeEthDev Port { get; }

    public string A { get; }

    public string B { get; }

    public MacAddress MacA { get; }

    public MacAddress MacB { get; }

    public string Tap { get; }

    public FrameSink BSink { get; private set; } = null!;

    public FrameSink TapSink { get; private set; } = null!;

    public TxTraffic Traffic { get; private set; } = null!;

    public SchedulingCanary Canary { get; private set; } = null!;

    public LinkWatch Links { get; private set; } = null!;

    public static FailoverRig Start(LabFailsafe lab)
    {
        var (a, b, macA, macB) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,dev(net_af_packet0,iface={a}),dev(net_tap0,iface={tap}),hotplug_poll=100");
        var rig = new FailoverRig(lab, fs, a, b, macA, macB, tap);
        lab.Start(fs);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        rig.BSink = lab.Sink(b);
        rig.TapSink = lab.Sink(tap);
        rig.Canary = lab.Own(new SchedulingCanary());
        rig.Links = lab.Own(lab.Ns.Run(() => new LinkWatch()));
        rig.Traffic = lab.Traffic(fs);
        LabFailsafe.WaitUntil(() => rig.BSink.Count > 20, () => $"frames on {b}: {rig.BSink.Count}; {LabFailsafe.Describe(fs)}");
        return rig;
    }

    /// <summary>A scheduling stall this long means the machine is overcommitted.</summary>
    public const double OverloadStallMs = 20;

    /// <summary>The kernel taking this long from veth A down to RTM_DELLINK means it is overcommitted.</summary>
    public const double SlowKernelMs = 40;

    /// <summary>The failsafe's own part (RTM_DELLINK to the first frame on the tap) when the kernel was slow.</summary>
    public const double FastReactionMs = 10;

    /// <summary>
    /// Runs cycles until <paramref name="count"/> were measured. One whose gap reached <paramref name="limitMs"/>
    /// on an overcommitted machine (see <see cref="OverloadStallMs"/>, <see cref="SlowKernelMs"/>) is set aside
    /// and run again, at most <paramref name="maxRerun"/> times.
    /// </summary>
    public (List<CycleResult> Measured, List<CycleResult> Rerun) Cycles(int count, double limitMs, int maxRerun)
    {
        var measured = new List<CycleResult>();
        var rerun = new List<CycleResult>();
        while (measured.Count < count)
        {
            var r = Cycle();
            bool overloaded = r.StallMs >= OverloadStallMs || (r.KernelMs >= SlowKernelMs && r.ReactionMs < FastReactionMs);
            if (r.GapMs >= limitMs && overloaded && rerun.Count < maxRerun)
            {
                rerun.Add(r);
            }
            else
            {
                measured.Add(r);
            }
        }

        return (measured, rerun);
    }

    /// <summary>Deletes veth A under traffic, measures the gap until the tap carries it, re-creates the veth and waits until Tx is back on it.</summary>
    public CycleResult Cycle()
    {
        int index = ++cycles;
        var fs = Port;
        LabFailsafe.WaitUntil(() => fs.TxSubDeviceIndex == 0, () => $"cycle {index}: Tx not on the veth: {LabFailsafe.Describe(fs)}");
        int before = BSink.Count;
        LabFailsafe.WaitUntil(() => BSink.Count > before + 10, () => $"cycle {index}: no traffic on {B} before the deletion ({BSink.Count - before} frames); {LabFailsafe.Describe(fs)}");

        long deleting = Stopwatch.GetTimestamp();
        Lab.Ns.DeleteLink(A);
        long deleted = Stopwatch.GetTimestamp();
        LabFailsafe.WaitUntil(() => TapSink.FirstAfter(deleting) is not null, () => $"cycle {index}: no frame on the tap {Tap} after deleting {A}; {LabFailsafe.Describe(fs)}");

        // Everything veth B received has been read (it stopped receiving when A went); the tap's first
        // frame is the first one sent after the last one B saw.
        BSink.Settle();
        var lastB = BSink.Last ?? throw new InvalidOperationException("no frame on veth B at all");
        var firstTap = TapSink.FirstAfter(deleting, lastB.Seq)
            ?? throw new InvalidOperationException("the tap's frames after the deletion are all older than veth B's last");
        double gap = Math.Max(0, LabFrames.Ms(firstTap.RxTimestamp - lastB.RxTimestamp));
        double txGap = LabFrames.Ms(firstTap.TxTimestamp - lastB.TxTimestamp);
        double stall = Canary.MaxStallMs(lastB.RxTimestamp, firstTap.RxTimestamp);
        var sw = Stopwatch.StartNew();
        while (Links.Find(A, deleting).Gone is null && sw.ElapsedMilliseconds < 1000)
        {
            Thread.Sleep(1); // our monitor reads the same RTM_DELLINK as the failsafe's
        }

        var (down, gone) = Links.Find(A, deleting);
        double kernel = gone is { } g ? LabFrames.Ms(g - (down ?? lastB.RxTimestamp)) : double.NaN;
        double reaction = gone is { } g2 ? LabFrames.Ms(firstTap.RxTimestamp - g2) : double.NaN;
        Assert.Equal(1, fs.TxSubDeviceIndex);
        BSink.Dispose();

        // Same names, same MACs: the dev() sub-device is probed again on the new interface.
        int tapFrames = TapSink.CountAfter(deleting);
        Lab.CreateVeth(A, B, MacA, MacB);
        long created = Stopwatch.GetTimestamp();
        BSink = Lab.Sink(B);
        LabFailsafe.WaitUntil(() => fs.TxSubDeviceIndex == 0 && BSink.Count > 0, () => $"cycle {index}: Tx not back on the veth ({BSink.Count} frames on {B}); {LabFailsafe.Describe(fs)}");
        double back = LabFrames.Ms(Stopwatch.GetTimestamp() - created);
        return new CycleResult(index, gap, txGap, stall, kernel, reaction, LabFrames.Ms(deleted - deleting), back, tapFrames);
    }
}

/// <summary>Samples the port's Tx packet count every millisecond on a thread of its own; records any decrease or failure.</summary>
internal sealed class StatsSampler : IDisposable
{
    private readonly EthDev port;
    private readonly Thread thread;
    private readonly List<string> failures = [];
    private volatile bool stop;
    private long samples;

    public StatsSampler(EthDev port)
    {
        this.port = port;
        thread = new Thread(Loop) { IsBackground = true, Name = "stats-" + port.Name };
        thread.Start();
    }

    public long Samples => Interlocked.Read(ref samples);

    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (failures)
            {
                return [.. failures];
            }
        }
    }

    public void Stop()
    {
        stop = true;
        thread.Join();
    }

    public void Dispose() => Stop();

    private void Loop()
    {
        long previous = 0, previousBytes = 0;
        while (!stop)
        {
            try
            {
                var s = port.GetStats();
                if (s.TxPackets < previous || s.TxBytes < previousBytes)
                {
                    lock (failures)
                    {
                        failures.Add(string.Create(CultureInfo.InvariantCulture, $"sample {Samples}: TxPackets {previous} -> {s.TxPackets}, TxBytes {previousBytes} -> {s.TxBytes}"));
                    }
                }

                previous = s.TxPackets;
                previousBytes = s.TxBytes;
                Interlocked.Increment(ref samples);
            }
            catch (Exception ex)
            {
                lock (failures)
                {
                    failures.Add($"sample {Samples}: GetStats threw {ex.GetType().Name}: {ex.Message}");
                }
            }

            Thread.Sleep(1);
        }
    }
}

