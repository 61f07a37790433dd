using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Session;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>A <see cref="VhostUserBackend"/> on a socket in a unique temporary directory, with a logger the test reads.</summary>
internal sealed class SessionHarness : IDisposable
{
    /// <summary>VERSION_1, MRG_RXBUF, PROTOCOL_FEATURES: what DPDK's virtio_user negotiates, minus IN_ORDER/INDIRECT (not needed here).</summary>
    public const ulong SplitFeatures =
        (1UL << VirtioFeatures.Version1) | (1UL << VirtioFeatures.NetMrgRxbuf) | (1UL << VirtioFeatures.VhostUserProtocolFeatures);

    public const ulong PackedFeatures = SplitFeatures | (1UL << VirtioFeatures.RingPacked);

    public const VhostUserProtocolFeatures BasicProtocol = VhostUserProtocolFeatures.Mq | VhostUserProtocolFeatures.ReplyAck;

    private static int poolCounter;

    private SessionHarness(string directory, VhostUserBackendOptions options, bool start)
    {
        Directory = directory;
        Logger = new SessionTestLogger();
        Backend = new VhostUserBackend(options, Logger);
        if (start)
        {
            Backend.Start();
        }
    }

    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "vhost.sock");

    public SessionTestLogger Logger { get; }

    public VhostUserBackend Backend { get; }

    public VhostUserBackendCounters Counters => Backend.Counters;

    public static SessionHarness Create(
        bool client = false,
        int queuePairs = 1,
        TimeSpan? messageTimeout = null,
        TimeSpan? reconnect = null,
        bool start = true)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"hl-vu-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28]);
        System.IO.Directory.CreateDirectory(directory);
        var options = new VhostUserBackendOptions
        {
            SocketPath = Path.Combine(directory, "vhost.sock"),
            Client = client,
            QueuePairs = queuePairs,
            MessageTimeout = messageTimeout ?? TimeSpan.FromSeconds(2),
            ReconnectInterval = reconnect ?? TimeSpan.FromMilliseconds(200),
            HealthCheckInterval = TimeSpan.FromMilliseconds(200),
        };
        return new SessionHarness(directory, options, start);
    }

    public static Mempool CreatePool(int count = 256) =>
        Mempool.CreatePacketPool($"vu-session-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}", count, cacheSize: 0);

    /// <summary>An mbuf holding <paramref name="frame"/>.</summary>
    public static Mbuf Packet(Mempool pool, ReadOnlySpan<byte> frame)
    {
        Mbuf m = pool.Alloc();
        Assert.False(m.IsNull, "mempool empty");
        Assert.True(m.TryAppend(frame.Length, out Span<byte> data));
        frame.CopyTo(data);
        return m;
    }

    public static byte[] Frame(int length, byte seed)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++)
        {
            frame[i] = (byte)(seed + i);
        }

        frame.AsSpan(0, 6).Fill(0xFF);
        return frame;
    }

    public SessionTestFrontend Connect() => SessionTestFrontend.Connect(SocketPath);

    /// <summary>Negotiates, shares <paramref name="guest"/> as the memory table, sets up rings 0 (rx) and 1 (tx): the device becomes ready.</summary>
    public (SessionSplitRing Rx, SessionSplitRing Tx) SetUpSplit(
        SessionTestFrontend frontend, SessionTestGuest guest, ulong features = SplitFeatures, VhostUserProtocolFeatures protocol = BasicProtocol)
    {
        frontend.Negotiate(features, protocol);
        frontend.SetMemTable([guest.Region], [guest.Fd]);
        var rx = SessionSplitRing.Standard(guest, 0);
        var tx = SessionSplitRing.Standard(guest, 1);
        frontend.SetupSplitRing(rx);
        frontend.SetupSplitRing(tx);
        return (rx, tx);
    }

    public void Dispose()
    {
        Backend.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
