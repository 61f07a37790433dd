using System.Diagnostics;
using System.Text.Json;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

/// <summary>A namespace, a runtime with the tap drivers, a pool, and helpers to move packets through a port.</summary>
internal sealed class TapLab : IDisposable
{
    private static int poolCounter;

    public TapLab()
    {
        Ns = NetNamespace.Create();
        Runtime = Ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new TapDriver(), new TunDriver()] }));
        Pool = Mempool.CreatePacketPool($"tap-test-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}", 8192, 256);
    }

    public NetNamespace Ns { get; }

    public HyperlaneRuntime Runtime { get; }

    public Mempool Pool { get; }

    /// <summary>Probes inside the namespace; returns the port.</summary>
    public TapEthDev Probe(string devargs) => Ns.Run(() => (TapEthDev)Runtime.Vdev.Probe(devargs).Ports[0]);

    /// <summary>Probes, configures <paramref name="queues"/> queue pairs and starts.</summary>
    public TapEthDev Start(string devargs, int queues = 1, EthConf? conf = null)
    {
        var port = Probe(devargs);
        port.Configure(queues, queues, conf);
        for (int q = 0; q < queues; q++)
        {
            port.SetupRxQueue(q, 512, Pool);
            port.SetupTxQueue(q, 512);
        }

        port.Start();
        return port;
    }

    /// <summary>An mbuf chain holding <paramref name="frame"/> in segments of at most <paramref name="segment"/> bytes.</summary>
    public Mbuf Packet(ReadOnlySpan<byte> frame, int segment = 2048)
    {
        Mbuf head = default;
        for (int off = 0; off < frame.Length; off += segment)
        {
            int n = Math.Min(segment, frame.Length - off);
            Mbuf m = Pool.Alloc();
            Assert.False(m.IsNull, "pool empty");
            Assert.True(m.TryAppend(n, out Span<byte> data));
            frame.Slice(off, n).CopyTo(data);
            if (head.IsNull)
            {
                head = m;
            }
            else
            {
                Assert.True(head.TryChain(m));
            }
        }

        return head;
    }

    /// <summary>Sends one packet on queue 0 and asserts the port took it.</summary>
    public static void Send(EthDev port, Mbuf m, int queue = 0)
    {
        Span<Mbuf> one = [m];
        Assert.Equal(1, port.TxBurst(queue, one));
    }

    /// <summary>Polls queue <paramref name="queue"/> until <paramref name="count"/> packets came or the timeout; returns them (caller frees).</summary>
    public static List<Mbuf> Receive(EthDev port, int count, TimeSpan timeout, int queue = 0)
    {
        var got = new List<Mbuf>();
        var burst = new Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (got.Count < count && sw.Elapsed < timeout)
        {
            int n = port.RxBurst(queue, burst);
            for (int i = 0; i < n; i++)
            {
                got.Add(burst[i]);
            }

            if (n == 0)
            {
                Thread.Sleep(1);
            }
        }

        return got;
    }

    /// <summary>Receives for <paramref name="window"/> and returns how many packets came (freed).</summary>
    public static int CountReceived(EthDev port, TimeSpan window, Func<byte[], bool>? match = null, int queue = 0)
    {
        int count = 0;
        foreach (var m in Receive(port, int.MaxValue, window, queue))
        {
            if (match is null || match(Bytes(m)))
            {
                count++;
            }

            m.Free();
        }

        return count;
    }

    public static byte[] Bytes(Mbuf m)
    {
        var b = new byte[m.PacketLength];
        m.CopyTo(b);
        return b;
    }

    public static byte[] Udp(string src, string dst, int length = 64, ushort srcPort = 1000, ushort dstPort = 2000)
    {
        var f = new byte[length];
        PacketBuilder.Udp4(f, MacAddress.Parse(src), MacAddress.Parse(dst), PacketBuilder.Ip(10, 0, 0, 1), PacketBuilder.Ip(10, 0, 0, 2), srcPort, dstPort, length);
        return f;
    }

    /// <summary><c>ip -j -d link show dev NAME</c> as a JSON element.</summary>
    public JsonElement Link(string ifname)
    {
        using var doc = JsonDocument.Parse(Ns.Ip("-j", "-d", "link", "show", "dev", ifname));
        return doc.RootElement[0].Clone();
    }

    public void Dispose()
    {
        Runtime.Dispose();
        Pool.Dispose();
        Ns.Dispose();
    }
}
