using System.Text;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Net.Null;
using Hyperlane.Net.Ring;
using Hyperlane.Testing;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Shared set-up of the failsafe unit tests: a runtime with null, ring, failsafe and the unit test driver.</summary>
internal static class Unit
{
    /// <summary>A poll period long enough that the periodic upkeep never runs during a test: rounds are run by hand.</summary>
    public const string NoPoll = "hotplug_poll=600000";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static HyperlaneRuntime Runtime(out UnitTestDriver driver)
    {
        driver = new UnitTestDriver();
        return new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new NullDriver(), new RingDriver(), new FailsafeDriver(), driver] });
    }

    public static FailsafeEthDev Probe(HyperlaneRuntime rt, string devargs) =>
        Assert.IsType<FailsafeEthDev>(Assert.Single(rt.Vdev.Probe(devargs).Ports));

    public static Mempool Pool(string prefix, int count = 1024, int cacheSize = 0) =>
        Mempool.CreatePacketPool($"fsu_{prefix}_{Guid.NewGuid():N}", count, cacheSize);

    /// <summary>Configures <paramref name="dev"/> with <paramref name="queues"/> Rx and Tx queues of 512 descriptors and starts it.</summary>
    public static void Start(EthDev dev, Mempool pool, int queues = 1, EthConf? conf = null)
    {
        Configure(dev, pool, queues, conf);
        dev.Start();
    }

    public static void Configure(EthDev dev, Mempool pool, int queues = 1, EthConf? conf = null)
    {
        dev.Configure(queues, queues, conf);
        for (int q = 0; q < queues; q++)
        {
            dev.SetupRxQueue(q, 512, pool);
            dev.SetupTxQueue(q, 512);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <see cref="Timeout"/> passes (then fails naming <paramref name="what"/>).</summary>
    public static void WaitUntil(Func<bool> condition, string what) =>
        LabFailsafe.WaitUntil(condition, () => "waiting for " + what, Timeout);

    /// <summary>Returns once the control thread has run everything posted before this call (removal teardowns, events).</summary>
    public static void Barrier(HyperlaneRuntime rt) => rt.Control.Invoke("test barrier", () => { }, Timeout);

    /// <summary>Occupies the control thread until the returned event is set, so nothing posted from now on runs.</summary>
    public static ManualResetEventSlim BlockControlThread(HyperlaneRuntime rt)
    {
        var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        rt.Control.Post("test block", () =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(20));
        });
        Assert.True(entered.Wait(Timeout), "the control thread never ran the blocking callback");
        return release;
    }

    public static Mbuf[] Alloc(Mempool pool, int count, byte tag, int length = 64)
    {
        var packets = new Mbuf[count];
        for (int i = 0; i < count; i++)
        {
            var m = pool.Alloc();
            Assert.False(m.IsNull, $"pool {pool.Name} ran out at {i}");
            Assert.True(m.TryAppend(length, out var data));
            data.Clear();
            data[0] = tag;
            packets[i] = m;
        }

        return packets;
    }

    public static long XStat(EthDev dev, string name) => dev.GetXStats().Single(x => x.Name == name).Value;

    /// <summary>Runs <paramref name="work"/> on a thread marked as lcore 0 (so mempool caches are used).</summary>
    public static T OnLcore<T>(Func<T> work) => LcoreThread.Run(work, "fs-unit-lcore-0");

    /// <summary>A pipe whose read end is blocking (the failsafe must make its copy non-blocking).</summary>
    public static (SafeFd Read, SafeFd Write) Pipe()
    {
        Syscalls.Pipe(nonBlocking: false, out var r, out var w).ThrowIfFailed("pipe2");
        return (r!, w!);
    }

    public static void Write(SafeFd fd, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(bytes.Length, Syscalls.Write(fd.Fd, bytes).ThrowIfFailed("write"));
    }

    /// <summary>A cat program, to make exec() print the first line of a file the test writes.</summary>
    public static string Cat { get; } = new[] { "/bin/cat", "/usr/bin/cat" }.First(File.Exists);

    public static string Echo { get; } = new[] { "/bin/echo", "/usr/bin/echo" }.First(File.Exists);
}

/// <summary>A temporary directory (no commas or spaces in its path, as exec() splits there), deleted on dispose.</summary>
internal sealed class UnitTempDir : IDisposable
{
    public UnitTempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hl-fsu-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
