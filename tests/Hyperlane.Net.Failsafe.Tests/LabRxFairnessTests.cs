using System.Diagnostics;
using System.Globalization;
using Hyperlane.Memory;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// Receive over two busy sub-devices: failsafe over af_packet (veth A, fed from a packet socket on veth B) and
/// a tap (fed from a packet socket on the tap netdev: what the kernel sends out of a tap reaches its fd, the
/// tap sub-device's Rx). Neither may starve the other, and every mbuf carries the failsafe's port id.
/// </summary>
[Collection(LabFailsafe.Collection)]
public sealed class LabRxFairnessTests(ITestOutputHelper output)
{
    private const ushort FromVeth = 1111;
    private const ushort FromTap = 2222;

    [SkippableFact]
    public void A_backlog_on_both_sub_devices_is_drained_from_both_in_every_burst()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var (fs, b, tap) = Start(lab);
        using var kb = KernelPort.Open(lab.Ns, b);
        using var kt = KernelPort.Open(lab.Ns, tap);
        const int Each = 200;
        Assert.Equal(Each, kb.SendMany(LabFrames.Make(FromVeth), Each));
        Assert.Equal(Each, kt.SendMany(LabFrames.Make(FromTap), Each));
        Thread.Sleep(100); // af_packet's Rx ring hands a block over when it is full or its retire timer fires

        var bursts = new List<(int Veth, int Tap, int Other)>();
        int veth = 0, fromTap = 0;
        var burst = new Mbuf[32];
        var sw = Stopwatch.StartNew();
        while ((veth < Each || fromTap < Each) && sw.Elapsed < LabFailsafe.Timeout)
        {
            int n = fs.RxBurst(0, burst);
            if (n == 0)
            {
                Thread.Sleep(1);
                continue;
            }

            var counts = Classify(burst.AsSpan(0, n), fs.PortId);
            bursts.Add(counts);
            veth += counts.Veth;
            fromTap += counts.Tap;
        }

        output.WriteLine("bursts (veth, tap, other): " + string.Join(" ", bursts.Select(x => $"({x.Veth},{x.Tap},{x.Other})")));
        Assert.Equal(Each, veth);
        Assert.Equal(Each, fromTap);

        // While both have a backlog, every burst takes from both (DPDK's failsafe would return 32 from the first).
        Assert.True(bursts.Count >= 4);
        Assert.All(bursts.Take(4), x => Assert.True(x.Veth > 0 && x.Tap > 0, $"a burst of {x.Veth} from the veth and {x.Tap} from the tap"));
        Assert.Equal(Each, fs.GetSubDevicePort(0)!.GetStats().RxPackets);
        Assert.Equal(Each, fs.GetSubDevicePort(1)!.GetStats().RxPackets);

        lab.DisposeRuntime();
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    /// <summary>
    /// For a second the veth side (the preferred sub-device) floods as fast as the kernel takes frames while
    /// the tap side sends a steady stream (32 frames about every millisecond): both must be received in
    /// substantial numbers (at least a fifth of what each side sent), with the failsafe's port id, and the
    /// counts add up. The tap side is paced so that what it gets measures the failsafe's sharing, not how many
    /// readv calls per second the machine allows; the backlog test above checks the per-burst split exactly.
    /// </summary>
    [SkippableFact]
    public void Flooding_the_preferred_sub_device_does_not_starve_the_other()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        var (fs, b, tap) = Start(lab);
        var afp = fs.GetSubDevicePort(0)!;
        var tapPort = fs.GetSubDevicePort(1)!;
        using var kb = KernelPort.Open(lab.Ns, b);
        using var kt = KernelPort.Open(lab.Ns, tap);
        long afpBefore = afp.GetStats().RxPackets, tapBefore = tapPort.GetStats().RxPackets;

        using var stop = new ManualResetEventSlim();
        long sentVeth = 0, sentTap = 0;
        var senders = new[]
        {
            new Thread(() => sentVeth = Flood(kb, LabFrames.Make(FromVeth), stop, paced: false)) { IsBackground = true, Name = "flood-veth" },
            new Thread(() => sentTap = Flood(kt, LabFrames.Make(FromTap), stop, paced: true)) { IsBackground = true, Name = "stream-tap" },
        };
        foreach (var t in senders)
        {
            t.Start();
        }

        long rxVeth = 0, rxTap = 0, rxOther = 0, wrongPort = 0, bursts = 0;
        var burst = new Mbuf[32];
        var sw = Stopwatch.StartNew();
        long lastPacket = 0;
        while (true)
        {
            if (sw.ElapsedMilliseconds >= 1000 && !stop.IsSet)
            {
                stop.Set();
                foreach (var t in senders)
                {
                    t.Join();
                }

                lastPacket = sw.ElapsedMilliseconds;
            }

            int n = fs.RxBurst(0, burst);
            if (n > 0)
            {
                bursts++;
                lastPacket = sw.ElapsedMilliseconds;
                var c = Classify(burst.AsSpan(0, n), fs.PortId, ref wrongPort);
                rxVeth += c.Veth;
                rxTap += c.Tap;
                rxOther += c.Other;
            }
            else if (stop.IsSet && sw.ElapsedMilliseconds - lastPacket > 200)
            {
                break; // drained
            }
        }

        long afpRx = afp.GetStats().RxPackets - afpBefore, tapRx = tapPort.GetStats().RxPackets - tapBefore;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"veth: sent {sentVeth}, received {rxVeth} ({100.0 * rxVeth / Math.Max(1, sentVeth):0.0}%), af_packet RxPackets {afpRx}, RxMissed {afp.GetStats().RxMissed}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tap: sent {sentTap}, received {rxTap} ({100.0 * rxTap / Math.Max(1, sentTap):0.0}%), tap RxPackets {tapRx}; other frames {rxOther}; {bursts} bursts"));

        Assert.Equal(0, wrongPort);
        Assert.True(sentVeth > 1000 && sentTap > 1000, $"the senders sent only {sentVeth} and {sentTap} frames");
        Assert.True(rxVeth >= sentVeth / 5, $"veth side starved: {rxVeth} of {sentVeth}");
        Assert.True(rxTap >= sentTap / 5, $"tap side starved: {rxTap} of {sentTap}");
        Assert.True(afpRx >= sentVeth / 5, $"af_packet sub-device counted {afpRx} of {sentVeth}");
        Assert.True(tapRx >= sentTap / 5, $"tap sub-device counted {tapRx} of {sentTap}");
        Assert.Equal(rxVeth + rxTap + rxOther, afpRx + tapRx);
        Assert.Equal(afp.GetStats().RxPackets + tapPort.GetStats().RxPackets, fs.GetStats().RxPackets);

        lab.DisposeRuntime();
        Assert.Equal(0, lab.Pool.Audit().InUse);
    }

    private static (FailsafeEthDev Port, string B, string Tap) Start(LabFailsafe lab)
    {
        var (a, b, _, _) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,dev(net_af_packet0,iface={a}),dev(net_tap0,iface={tap})");
        lab.Start(fs);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));

        // Nothing else is queued: drain what the interfaces coming up may have produced.
        var burst = new Mbuf[32];
        int n;
        while ((n = fs.RxBurst(0, burst)) > 0)
        {
            Mbuf.FreeBulk(burst.AsSpan(0, n));
        }

        return (fs, b, tap);
    }

    /// <summary>Sends copies of <paramref name="frame"/> in runs of 32 (each followed by a 1 ms sleep when <paramref name="paced"/>) until <paramref name="stop"/>; returns how many the kernel took.</summary>
    private static long Flood(KernelPort port, byte[] frame, ManualResetEventSlim stop, bool paced)
    {
        long sent = 0;
        while (!stop.IsSet)
        {
            sent += port.SendMany(frame, 32);
            if (paced)
            {
                Thread.Sleep(1);
            }
        }

        return sent;
    }

    private static (int Veth, int Tap, int Other) Classify(Span<Mbuf> packets, ushort port)
    {
        long wrong = 0;
        var r = Classify(packets, port, ref wrong);
        Assert.Equal(0, wrong);
        return r;
    }

    /// <summary>Counts the mbufs by the side that sent them, counts those not carrying <paramref name="port"/>, and frees them.</summary>
    private static (int Veth, int Tap, int Other) Classify(Span<Mbuf> packets, ushort port, ref long wrongPort)
    {
        int veth = 0, tap = 0, other = 0;
        foreach (var m in packets)
        {
            if (m.Port != port)
            {
                wrongPort++;
            }

            ushort sport = LabFrames.TryParse(m.Data, out ushort s, out _, out _) ? s : (ushort)0;
            if (sport == FromVeth)
            {
                veth++;
            }
            else if (sport == FromTap)
            {
                tap++;
            }
            else
            {
                other++;
            }
        }

        Mbuf.FreeBulk(packets);
        return (veth, tap, other);
    }
}
