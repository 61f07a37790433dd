using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket;
using Hyperlane.Net.Tap;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>
/// The namespace-lab tests of net_failsafe run one at a time, after every other collection (they measure a
/// failover gap and flood interfaces: other tests running beside them would only add noise).
/// </summary>
[CollectionDefinition(LabFailsafe.Collection, DisableParallelization = true)]
public sealed class LabFailsafeCollection
{
}

/// <summary>
/// A namespace lab with the af_packet, tap and failsafe drivers, and helpers to make veths and taps, probe a
/// failsafe port and look at interfaces from the kernel side.
/// </summary>
internal sealed class LabFailsafe : NamespaceLab
{
    public const string Collection = "failsafe-lab";

    private int veths;

    private LabFailsafe(ITestOutputHelper output, NetNamespace ns)
        : base(output, ns, [new AfPacketDriver(), new TapDriver(), new FailsafeDriver()], "fslab")
    {
    }

    public static LabFailsafe Create(ITestOutputHelper output) => new(output, NetNamespace.Create());

    /// <summary>The MAC of side A (n = 1, 2...) of the lab's veth number n; B ends in :02.</summary>
    public static MacAddress VethMac(int n, bool sideA) =>
        new(0x02, 0x00, 0x00, 0xaa, (byte)n, sideA ? (byte)0x01 : (byte)0x02);

    /// <summary>Adds a veth pair with unique names and lab MACs, both up; returns the names and the MACs.</summary>
    public (string A, string B, MacAddress MacA, MacAddress MacB) AddVeth()
    {
        int n = Interlocked.Increment(ref veths);
        string a = NetNamespace.UniqueIfName("hfa"), b = NetNamespace.UniqueIfName("hfb");
        var macA = VethMac(n, true);
        var macB = VethMac(n, false);
        CreateVeth(a, b, macA, macB);
        return (a, b, macA, macB);
    }

    /// <summary>
    /// Creates the veth pair <paramref name="a"/>/<paramref name="b"/>: A with its MAC and MTU and already up in
    /// the one RTM_NEWLINK that creates it (a sub-device probed the instant A appears sees its final state, and
    /// nothing we do afterwards overwrites what the failsafe replays), then B up (the kernel refuses a veth
    /// created with its peer up: ENOTCONN). A sub-device may carry Tx for the moment B is still down.
    /// </summary>
    public void CreateVeth(string a, string b, MacAddress macA, MacAddress macB, int mtu = 1500)
    {
        string m = mtu.ToString(CultureInfo.InvariantCulture);
        Ns.Ip("link", "add", a, "address", macA.ToString(), "mtu", m, "up", "type", "veth", "peer", "name", b, "address", macB.ToString(), "mtu", m);
        Ns.SetUp(b);
    }

    public static string TapName() => NetNamespace.UniqueIfName("hft");

    /// <summary>Probes inside the namespace and returns the failsafe port.</summary>
    public FailsafeEthDev Probe(string devargs) =>
        Ns.Run(() => Assert.IsType<FailsafeEthDev>(Runtime.Vdev.Probe(devargs).Ports[0]));

    /// <summary><c>ip -d -j link show dev NAME</c>.</summary>
    public JsonElement Link(string ifname)
    {
        using var doc = JsonDocument.Parse(Ns.Ip("-d", "-j", "link", "show", "dev", ifname));
        return doc.RootElement[0].Clone();
    }
}

/// <summary>
/// Measures how late the scheduler runs a thread that sleeps 1 ms at a time: a stall of tens of milliseconds
/// means the machine is overcommitted (other test processes on 2 cores), and a latency measured across it
/// says more about the machine than about the code under test.
/// </summary>
internal sealed class SchedulingCanary : IDisposable
{
    private readonly Thread thread;
    private readonly List<(long End, long Length)> stalls = [];
    private volatile bool stop;

    public SchedulingCanary()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "canary" };
        thread.Start();
    }

    /// <summary>The longest time (ms) the canary went without running that overlaps [from, to] (Stopwatch timestamps).</summary>
    public double MaxStallMs(long from, long to)
    {
        lock (stalls)
        {
            long max = 0;
            foreach (var (end, length) in stalls)
            {
                if (end >= from && end - length <= to)
                {
                    max = Math.Max(max, length);
                }
            }

            return LabFrames.Ms(max);
        }
    }

    public void Dispose()
    {
        if (!stop)
        {
            stop = true;
            thread.Join();
        }
    }

    private void Loop()
    {
        long threshold = Stopwatch.Frequency / 200; // 5 ms
        while (!stop)
        {
            long before = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            long after = Stopwatch.GetTimestamp();
            if (after - before > threshold)
            {
                lock (stalls)
                {
                    stalls.Add((after, after - before));
                }
            }
        }
    }
}
