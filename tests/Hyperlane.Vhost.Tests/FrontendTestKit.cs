using Hyperlane.Memory;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Shared helpers of the frontend tests: shareable pools, packets, options, a private socket directory.</summary>
internal static class FrontendTestKit
{
    public const ulong V1 = 1UL << VirtioFeatures.Version1;
    public const ulong Proto = 1UL << VirtioFeatures.VhostUserProtocolFeatures;
    public const ulong Mrg = 1UL << VirtioFeatures.NetMrgRxbuf;
    public const ulong InOrder = 1UL << VirtioFeatures.InOrder;
    public const ulong Packed = 1UL << VirtioFeatures.RingPacked;
    public const ulong Mq = 1UL << VirtioFeatures.NetMq;

    private static int counter;

    /// <summary>A packet pool in a shareable memfd (no hugepages: tests must not depend on them).</summary>
    public static Mempool Pool(int count = 2048, int dataRoom = Mempool.DefaultDataRoomSize) =>
        Mempool.CreatePacketPool(
            $"fe-test-{Interlocked.Increment(ref counter)}",
            count,
            cacheSize: 0,
            dataRoomSize: dataRoom,
            region: new RegionOptions { Shareable = true, AllowHugepages = false });

    public static byte[] Frame(int length, int seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 7) + seed);
        }

        return bytes;
    }

    /// <summary>A single-segment packet holding <paramref name="data"/>.</summary>
    public static Mbuf Packet(Mempool pool, ReadOnlySpan<byte> data)
    {
        Mbuf m = pool.Alloc();
        Assert.False(m.IsNull);
        Assert.True(m.TryAppend(data.Length, out Span<byte> tail));
        data.CopyTo(tail);
        return m;
    }

    /// <summary>A packet of <paramref name="data"/> cut into segments of <paramref name="segmentLength"/> bytes.</summary>
    public static Mbuf Chained(Mempool pool, ReadOnlySpan<byte> data, int segmentLength)
    {
        Mbuf head = Packet(pool, data[..Math.Min(segmentLength, data.Length)]);
        for (int offset = segmentLength; offset < data.Length; offset += segmentLength)
        {
            Mbuf segment = Packet(pool, data[offset..Math.Min(offset + segmentLength, data.Length)]);
            Assert.True(head.TryChain(segment));
        }

        return head;
    }

    public static byte[] Bytes(Mbuf packet)
    {
        var bytes = new byte[packet.PacketLength];
        Assert.Equal(bytes.Length, packet.CopyTo(bytes));
        return bytes;
    }

    public static VhostUserFrontendOptions Options(string path) => new()
    {
        Path = path,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReplyTimeout = TimeSpan.FromSeconds(10),
    };

    public static void AssertNoLeak(Mempool pool) => Assert.Equal(0, pool.Audit().InUse);

    public static void WaitFor(Func<bool> condition, int timeoutMs = 5000)
    {
        long end = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < end, "condition not reached in time");
            Thread.Sleep(5);
        }
    }
}
