using System.Diagnostics;
using System.Text.Json;
using Hyperlane.Memory;
using Hyperlane.Net.Failsafe;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// Frames the host sends reach the application's port: through the TAP remote= path while there is no VF,
/// through the VF (af_packet with steal=1: the VF's kernel stack never sees them) while there is one, and
/// through the TAP again once it is gone. Each frame arrives once.
/// </summary>
[Collection(LabNetvsc.Collection)]
public sealed class LabRxPathTests(ITestOutputHelper output)
{
    private const int Frames = 200;

    [SkippableFact]
    public void Host_frames_reach_the_port_once_through_the_tap_then_the_vf_then_the_tap_again()
    {
        using var lab = LabNetvsc.Create(output);
        var mac = LabNetvsc.Mac(2);
        var (netvsc, netvscPeer) = lab.AddNetvsc(mac);
        lab.Probe($"net_vdev_netvsc0,iface={netvsc}");
        FailsafeEthDev fs = Assert.Single(lab.FailsafePorts());
        lab.Start(fs);
        using var fromNetvsc = KernelPort.Open(lab.Ns, netvscPeer);

        // No VF: the synthetic path.
        Assert.Equal(Frames, SendAndCount(fs, fromNetvsc, mac, 7001));

        // A VF: its traffic reaches the port through af_packet, and its ingress drops what the taps saw.
        var (vf, vfPeer) = lab.AddVf(mac);
        LabNetvsc.WaitUntil(() => fs.TxSubDeviceIndex == 0, () => $"the VF never carried Tx: {LabNetvsc.Describe(fs)}");
        using (var fromVf = KernelPort.Open(lab.Ns, vfPeer))
        {
            Assert.Equal(Frames, SendAndCount(fs, fromVf, mac, 7002));
        }

        string filters = Tc(lab, "-j", "filter", "show", "dev", vf, "ingress");
        Assert.Contains("\"pref\":175", filters, StringComparison.Ordinal);
        long drops = IngressDrops(lab, vf);
        output.WriteLine($"{vf} ingress drops: {drops}");
        Assert.True(drops >= Frames, $"{vf}'s ingress dropped {drops} frames; the kernel saw the VF's traffic");

        // The VF goes: the TAP path again.
        lab.Ns.DeleteLink(vf);
        LabNetvsc.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Undefined, () => $"the VF slot was not emptied: {LabNetvsc.Describe(fs)}");
        Assert.Equal(Frames, SendAndCount(fs, fromNetvsc, mac, 7003));
    }

    /// <summary>Sends <see cref="Frames"/> lab frames to <paramref name="mac"/> from the far side of a wire and counts those the port receives in the next 2 s.</summary>
    private int SendAndCount(FailsafeEthDev fs, KernelPort from, MacAddress mac, ushort srcPort)
    {
        Drain(fs);
        byte[] frame = LabFrames.Make(srcPort);
        mac.CopyTo(frame);
        for (int i = 0; i < Frames; i++)
        {
            from.Send(frame);
        }

        int seen = 0;
        var burst = new Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(2) && seen < Frames + 10)
        {
            int n = fs.RxBurst(0, burst);
            for (int i = 0; i < n; i++)
            {
                if (LabFrames.TryParse(burst[i].Data, out ushort sport, out _, out _) && sport == srcPort)
                {
                    seen++;
                }
            }

            Mbuf.FreeBulk(burst.AsSpan(0, n));
            if (n == 0)
            {
                if (seen >= Frames && sw.Elapsed > TimeSpan.FromMilliseconds(300))
                {
                    break; // all here, and a while for duplicates to show up
                }

                Thread.Sleep(1);
            }
        }

        output.WriteLine($"{from.InterfaceName} -> port: {seen} of {Frames} frames");
        return seen;
    }

    private static void Drain(FailsafeEthDev fs)
    {
        var burst = new Mbuf[32];
        int n;
        while ((n = fs.RxBurst(0, burst)) > 0)
        {
            Mbuf.FreeBulk(burst.AsSpan(0, n));
        }
    }

    private static long IngressDrops(LabNetvsc lab, string ifname)
    {
        using var doc = JsonDocument.Parse(Tc(lab, "-s", "-j", "qdisc", "show", "dev", ifname, "ingress"));
        long drops = 0;
        foreach (var q in doc.RootElement.EnumerateArray())
        {
            if (q.TryGetProperty("drops", out var d))
            {
                drops += d.GetInt64();
            }
        }

        return drops;
    }

    private static string Tc(LabNetvsc lab, params string[] args)
    {
        var psi = new ProcessStartInfo("tc") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-n");
        psi.ArgumentList.Add(lab.Ns.Name);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text;
    }
}
