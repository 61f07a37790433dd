using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

/// <summary>Mempools with unique names (the pool registry is process-wide).</summary>
public static class TestPools
{
    public static Mempool Packets(string prefix, int count = 256, int cacheSize = 0, int dataRoomSize = Mempool.DefaultDataRoomSize) =>
        Mempool.CreatePacketPool($"{prefix}_{Guid.NewGuid():N}", count, cacheSize, dataRoomSize);

    /// <summary>Allocates <paramref name="count"/> packets of <paramref name="length"/> bytes, the first byte of each being its index.</summary>
    public static Mbuf[] Alloc(Mempool pool, int count, int length)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var packets = new Mbuf[count];
        for (int i = 0; i < count; i++)
        {
            var m = pool.Alloc();
            Assert.False(m.IsNull, $"pool {pool.Name} ran out at {i}");
            Assert.True(m.TryAppend(length, out var data));
            data.Clear();
            data[0] = (byte)i;
            packets[i] = m;
        }

        return packets;
    }
}
