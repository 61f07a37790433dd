using System.Diagnostics;
using System.Text;
using Hyperlane.Linux;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Tap;
using Hyperlane.Testing;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// Sub-devices plugged in at run time: <c>exec()</c> starts printing devargs, or devargs lines are written
/// into an <c>fd()</c> pipe, while the port runs on its tap and transmits; the new sub-device is probed by the
/// upkeep (on the runtime's control thread, inside the namespace), started, and takes the Tx traffic.
/// </summary>
[Collection(LabFailsafe.Collection)]
public sealed class LabPluginTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Exec_plugs_in_an_af_packet_sub_device_once_the_command_prints_its_devargs()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        using var file = new DevargsFile();
        var (a, b, _, _) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,exec(cat,{file.Path}),dev(net_tap0,iface={tap}),hotplug_poll=100");
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        lab.Start(fs);
        var tapSink = lab.Sink(tap);
        var bSink = lab.Sink(b);
        lab.Traffic(fs);
        LabFailsafe.WaitUntil(() => tapSink.Count > 20, () => $"frames on the tap: {tapSink.Count}; {LabFailsafe.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        Assert.Null(fs.GetSubDeviceError(0)); // printing nothing is "not yet", not an error
        Assert.Equal(0, fs.SourceErrors);
        Assert.Equal(0, bSink.Count);

        long written = Stopwatch.GetTimestamp();
        file.Write($"net_af_packet1,iface={a}\n");
        var took = LabFailsafe.WaitUntil(
            () => fs.TxSubDeviceIndex == 0 && bSink.FirstAfter(written) is not null,
            () => $"Tx not on the plugged af_packet sub-device ({bSink.Count} frames on {b}); {LabFailsafe.Describe(fs)}");
        output.WriteLine($"exec() af_packet sub-device carrying Tx {took.TotalMilliseconds:0} ms after its devargs were written (hotplug_poll=100)");

        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        var sub = Assert.IsType<AfPacketEthDev>(fs.GetSubDevicePort(0));
        Assert.Equal("net_af_packet1", sub.Name);
        Assert.Equal(a, sub.InterfaceName);
        Assert.Same(fs.SubDeviceOwner, sub.Owner);
        Assert.DoesNotContain(lab.Runtime.Ports.Ports, p => p.Name == "net_af_packet1"); // owned: hidden from the application
        Assert.Null(fs.GetSubDeviceError(0));

        // The tap carries nothing new once Tx moved.
        Thread.Sleep(20);
        tapSink.Settle();
        int tapCount = tapSink.Count;
        Thread.Sleep(150);
        tapSink.Settle();
        Assert.Equal(tapCount, tapSink.Count);
    }

    [SkippableFact]
    public void Exec_plugs_in_a_tap_sub_device_and_it_takes_tx_from_the_af_packet_one()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        using var file = new DevargsFile();
        var (a, b, _, _) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,exec(cat,{file.Path}),dev(net_af_packet0,iface={a}),hotplug_poll=100");
        lab.Start(fs);
        var bSink = lab.Sink(b);
        lab.Traffic(fs);
        LabFailsafe.WaitUntil(() => bSink.Count > 20, () => $"frames on {b}: {bSink.Count}; {LabFailsafe.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.False(lab.Ns.LinkExists(tap));

        var sw = Stopwatch.StartNew();
        file.Write($"net_tap1,iface={tap}\n");
        LabFailsafe.WaitUntil(
            () => fs.GetSubDeviceState(0) == SubDeviceState.Started && lab.Ns.LinkExists(tap),
            () => $"the tap sub-device did not come; {LabFailsafe.Describe(fs)}");
        var tapSink = lab.Sink(tap);
        LabFailsafe.WaitUntil(
            () => fs.TxSubDeviceIndex == 0 && tapSink.Count > 0,
            () => $"Tx not on the plugged tap ({tapSink.Count} frames on {tap}); {LabFailsafe.Describe(fs)}");
        output.WriteLine($"exec() tap sub-device carrying Tx {sw.Elapsed.TotalMilliseconds:0} ms after its devargs were written");

        var sub = Assert.IsType<TapEthDev>(fs.GetSubDevicePort(0));
        Assert.Equal("net_tap1", sub.Name);
        Assert.Equal(tap, sub.InterfaceName);
        Assert.Equal(fs.MacAddress, sub.MacAddress); // the port's MAC (the veth's) was replayed on it

        // The veth carries nothing new.
        Thread.Sleep(20);
        bSink.Settle();
        int bCount = bSink.Count;
        Thread.Sleep(150);
        bSink.Settle();
        Assert.Equal(bCount, bSink.Count);
    }

    [SkippableFact]
    public void Fd_waits_for_a_whole_line_takes_the_last_of_several_and_plugs_in_af_packet_then_tap()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = LabFailsafe.Create(output);
        Syscalls.Pipe(nonBlocking: true, out var readEnd, out var writeEnd).ThrowIfFailed("pipe2");
        using var r = readEnd!;
        using var w = writeEnd!;
        var (a, b, _, _) = lab.AddVeth();
        string tap = LabFailsafe.TapName();
        var fs = lab.Probe($"net_failsafe0,fd({r.Fd}),dev(net_tap0,iface={tap}),hotplug_poll=100");
        lab.Start(fs);
        var tapSink = lab.Sink(tap);
        var bSink = lab.Sink(b);
        lab.Traffic(fs);
        LabFailsafe.WaitUntil(() => tapSink.Count > 20, () => $"frames on the tap: {tapSink.Count}; {LabFailsafe.Describe(fs)}");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        long probeFailures = fs.ProbeFailures;

        // A partial line does nothing, however many upkeeps run.
        Write(w, "net_af_packet1,iface=");
        for (int i = 0; i < 3; i++)
        {
            lab.Ns.Run(fs.RunUpkeep);
        }

        Thread.Sleep(250); // and the alarm's rounds too
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        Assert.Null(fs.GetSubDevicePort(0));
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Assert.Null(fs.GetSubDeviceError(0)); // a partial line is "not yet", not an error
        Assert.Equal(0, fs.SourceErrors);
        Assert.Equal(0, bSink.Count);

        // Its newline arrives together with another line: the last complete line wins; the first one
        // ("net_af_packet1,iface=nosuchif0", which could not be probed) is never tried.
        long written = Stopwatch.GetTimestamp();
        Write(w, $"nosuchif0\nnet_af_packet1,iface={a}\n");
        var took = LabFailsafe.WaitUntil(
            () => fs.TxSubDeviceIndex == 0 && bSink.FirstAfter(written) is not null,
            () => $"Tx not on the af_packet sub-device from fd() ({bSink.Count} frames on {b}); {LabFailsafe.Describe(fs)}");
        output.WriteLine($"fd() af_packet sub-device carrying Tx {took.TotalMilliseconds:0} ms after the line was completed");
        var afp = Assert.IsType<AfPacketEthDev>(fs.GetSubDevicePort(0));
        Assert.Equal(a, afp.InterfaceName);
        Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(0));
        Assert.Equal(probeFailures, fs.ProbeFailures);

        // The interface goes: the fd() sub-device goes back to reading its pipe, Tx to the tap.
        lab.Ns.DeleteLink(a);
        LabFailsafe.WaitUntil(
            () => fs.TxSubDeviceIndex == 1 && fs.GetSubDeviceState(0) == SubDeviceState.Undefined,
            () => $"the af_packet sub-device was not removed; {LabFailsafe.Describe(fs)}");

        // Two tap lines at once: only the last is probed.
        string first = LabFailsafe.TapName(), last = LabFailsafe.TapName();
        Write(w, $"net_tap5,iface={first}\nnet_tap2,iface={last}\n");
        LabFailsafe.WaitUntil(
            () => fs.GetSubDeviceState(0) == SubDeviceState.Started && lab.Ns.LinkExists(last),
            () => $"the tap sub-device from fd() did not come; {LabFailsafe.Describe(fs)}");
        var lastSink = lab.Sink(last);
        LabFailsafe.WaitUntil(
            () => fs.TxSubDeviceIndex == 0 && lastSink.Count > 0,
            () => $"Tx not on the tap from fd() ({lastSink.Count} frames on {last}); {LabFailsafe.Describe(fs)}");
        var t = Assert.IsType<TapEthDev>(fs.GetSubDevicePort(0));
        Assert.Equal("net_tap2", t.Name);
        Assert.Equal(last, t.InterfaceName);
        Assert.False(lab.Ns.LinkExists(first));
        Assert.Null(lab.Runtime.Vdev.Find("net_tap5"));
        Assert.Equal(probeFailures, fs.ProbeFailures);
    }

    private static void Write(SafeFd fd, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        var r = Syscalls.Write(fd.Fd, bytes);
        r.ThrowIfFailed("write to the pipe");
        Assert.Equal(bytes.Length, (int)r.Value);
    }
}

/// <summary>A file that <c>exec(cat,FILE)</c> prints: empty at first, replaced whole (rename) on each write, deleted on dispose.</summary>
internal sealed class DevargsFile : IDisposable
{
    public DevargsFile()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hl-failsafe-{Guid.NewGuid():N}.devargs");
        File.WriteAllText(Path, string.Empty);
    }

    public string Path { get; }

    public void Write(string text)
    {
        string tmp = Path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, Path, overwrite: true);
    }

    public void Dispose()
    {
        File.Delete(Path);
        File.Delete(Path + ".tmp");
    }
}
