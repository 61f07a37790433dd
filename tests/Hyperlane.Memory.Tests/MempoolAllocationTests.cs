using Hyperlane.Testing;

namespace Hyperlane.Memory.Tests;

/// <summary>The mbuf data path (AllocBulk + FreeBulk) allocates no managed memory (DESIGN.md, Code habits).</summary>
public class MempoolAllocationTests
{
    [Theory]
    [InlineData(0)]  // lcore cache path
    [InlineData(-1)] // shared ring path (not an lcore)
    public void A_million_mbufs_in_bursts_of_32_allocate_nothing(int lcore)
    {
        using var pool = Mempool.CreatePacketPool("alloc-zero", 1024, cacheSize: 256, dataRoomSize: 256);
        var burst = new Mbuf[32];
        long allocated = -1;
        MempoolAudit audit = default;
        Exception? failure = null;

        var thread = new Thread(() =>
        {
            LcoreId.SetCurrent(lcore);
            try
            {
                Exercise(pool, burst, 100_000); // warm-up: JIT, tiering, the lcore cache
                long before = ThreadAllocations.Baseline();
                Exercise(pool, burst, 1_000_000);
                allocated = ThreadAllocations.Since(before);
                pool.FlushCurrentLcoreCache();
                audit = pool.Audit();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
            finally
            {
                LcoreId.SetCurrent(-1);
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the allocation loop did not finish");

        Assert.Null(failure);
        Assert.Equal(0, allocated);
        Assert.Equal(new MempoolAudit(1024, 1024, 0, 0), audit);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    private static void Exercise(Mempool pool, Mbuf[] burst, int mbufs)
    {
        for (int done = 0; done < mbufs; done += burst.Length)
        {
            if (pool.AllocBulk(burst) != burst.Length)
            {
                throw new InvalidOperationException("pool ran dry");
            }

            burst[0].Port = 1; // touch the packets as a driver would
            burst[^1].DataLength = 60;
            burst[^1].PacketLength = 60;
            Mbuf.FreeBulk(burst);
        }
    }
}
