using System.Diagnostics;
using Hyperlane.Core;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.AfPacket.Tests;

/// <summary>
/// A namespace with a veth pair: net_af_packet0 on side A (probed inside the namespace, configured and
/// started), the kernel's AF_PACKET socket on side B as the peer. Frames go between 198.18.0.1 (A) and 198.18.0.2 (B).
/// </summary>
internal sealed class AfPacketLab : IDisposable
{
    public static readonly MacAddress MacA = MacAddress.Parse("02:00:00:aa:00:01");
    public static readonly MacAddress MacB = MacAddress.Parse("02:00:00:aa:00:02");
    public static readonly uint IpA = PacketBuilder.Ip(198, 18, 0, 1);
    public static readonly uint IpB = PacketBuilder.Ip(198, 18, 0, 2);

    private AfPacketLab(NetNamespace ns, string a, string b)
    {
        Ns = ns;
        A = a;
        B = b;
    }

    public NetNamespace Ns { get; }

    public string A { get; }

    public string B { get; }

    public HyperlaneRuntime Runtime { get; private set; } = null!;

    public EthDev Port { get; private set; } = null!;

    public Mempool Pool { get; private set; } = null!;

    public KernelPort Peer { get; private set; } = null!;

    /// <summary>Creates the lab; <paramref name="devargs"/> is appended to "net_af_packet0,iface=A".</summary>
    public static AfPacketLab Create(string devargs = "", int queues = 1, int? mtu = null, int poolSize = 4096)
    {
        var ns = NetNamespace.Create();
        var lab = (AfPacketLab?)null;
        try
        {
            var (a, b) = ns.AddVethPair(macA: "02:00:00:aa:00:01", macB: "02:00:00:aa:00:02", mtu: mtu);
            lab = new AfPacketLab(ns, a, b);
            lab.Pool = Mempool.CreatePacketPool($"afp_{Guid.NewGuid():N}", poolSize, cacheSize: 0);
            lab.Runtime = ns.Run(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Drivers = [new AfPacketDriver()] }));
            lab.Port = ns.Run(() => lab.Runtime.Vdev.Probe("net_af_packet0,iface=" + a + devargs).Ports[0]);
            lab.Port.Configure(queues, queues);
            for (int q = 0; q < queues; q++)
            {
                lab.Port.SetupRxQueue(q, 512, lab.Pool);
                lab.Port.SetupTxQueue(q, 512);
            }

            lab.Port.Start();
            lab.Peer = KernelPort.Open(ns, b);
            return lab;
        }
        catch
        {
            if (lab is not null)
            {
                lab.Dispose();
            }
            else
            {
                ns.Dispose();
            }

            throw;
        }
    }

    /// <summary>UDP frame B → A (what the peer sends to the port), identified by its source port.</summary>
    public static byte[] FrameToA(int length, ushort srcPort, ushort? vlan = null)
    {
        var f = new byte[length];
        PacketBuilder.Udp4(f, MacB, MacA, IpB, IpA, srcPort, 9, length, vlan);
        return f;
    }

    /// <summary>UDP frame A → B (what the port sends), identified by its source port.</summary>
    public static byte[] FrameToB(int length, ushort srcPort)
    {
        var f = new byte[length];
        PacketBuilder.Udp4(f, MacA, MacB, IpA, IpB, srcPort, 9, length);
        return f;
    }

    /// <summary>True for our UDP frames towards <paramref name="dstMac"/> (the namespace may carry other traffic).</summary>
    public static bool IsOurs(ReadOnlySpan<byte> frame, MacAddress dstMac) =>
        frame.Length >= 42 && MacAddress.Read(frame) == dstMac && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 17;

    /// <summary>The UDP source port of one of our frames.</summary>
    public static ushort SourcePort(ReadOnlySpan<byte> frame) => (ushort)((frame[34] << 8) | frame[35]);

    public static byte[] ToArray(Mbuf m)
    {
        var b = new byte[m.PacketLength];
        Assert.Equal(b.Length, m.CopyTo(b));
        return b;
    }

    /// <summary>Polls queue <paramref name="queue"/> until <paramref name="count"/> of our frames arrived or the timeout; frees every mbuf.</summary>
    public List<byte[]> ReceiveOurs(int queue, int count, TimeSpan timeout, Action<Mbuf>? inspect = null)
    {
        var got = new List<byte[]>();
        Span<Mbuf> burst = stackalloc Mbuf[32];
        var sw = Stopwatch.StartNew();
        while (got.Count < count && sw.Elapsed < timeout)
        {
            int n = Port.RxBurst(queue, burst);
            if (n == 0)
            {
                Thread.Sleep(1);
                continue;
            }

            for (int i = 0; i < n; i++)
            {
                var bytes = ToArray(burst[i]);
                if (IsOurs(bytes, MacA))
                {
                    inspect?.Invoke(burst[i]);
                    got.Add(bytes);
                }
            }

            Mbuf.FreeBulk(burst[..n]);
        }

        return got;
    }

    /// <summary>Sends <paramref name="packets"/> until all are taken (the ring may be momentarily full).</summary>
    public void TransmitAll(int queue, ReadOnlySpan<Mbuf> packets)
    {
        var sw = Stopwatch.StartNew();
        while (!packets.IsEmpty)
        {
            int n = Port.TxBurst(queue, packets);
            packets = packets[n..];
            if (n == 0)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), "Tx ring stayed full for 5 s");
                Thread.Sleep(1);
            }
        }
    }

    public void Dispose()
    {
        Peer?.Dispose();
        Runtime?.Dispose();
        Pool?.Dispose();
        Ns.Dispose();
    }
}
