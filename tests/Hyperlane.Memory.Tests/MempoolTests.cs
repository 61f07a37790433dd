using System.Globalization;
using System.Text.RegularExpressions;

namespace Hyperlane.Memory.Tests;

/// <summary>Mempool construction, exhaustion, audit, object identity and the pool registry (all on non-lcore threads).</summary>
public partial class MempoolTests
{
    [Fact]
    public void Test_thread_is_not_an_lcore()
    {
        Assert.Equal(-1, LcoreId.Current);
    }

    [Fact]
    public void Create_rejects_bad_counts_and_cache_sizes_with_clear_messages()
    {
        var count = Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-bad", 0, 64));
        Assert.Equal("count", count.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-bad", -5, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.CreatePacketPool("pool-bad", 0));

        var cacheMax = Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-bad", 10_000, 64, cacheSize: Mempool.MaxCacheSize + 1));
        Assert.Equal("cacheSize", cacheMax.ParamName);
        Assert.Contains("512", cacheMax.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-bad", 100, 64, cacheSize: -1));

        var cacheRatio = Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-ratio", 100, 64, cacheSize: 100));
        Assert.Equal("cacheSize", cacheRatio.ParamName);
        Assert.Contains("mempool 'pool-ratio'", cacheRatio.Message, StringComparison.Ordinal);
        Assert.Contains("cache of 100 is too large for 100 objects", cacheRatio.Message, StringComparison.Ordinal);

        Assert.ThrowsAny<ArgumentException>(() => Mempool.Create(string.Empty, 10, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-bad", 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.CreatePacketPool("pool-bad", 10, cacheSize: 0, dataRoomSize: 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.CreatePacketPool("pool-bad", 10, cacheSize: 0, privateSize: -8));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(700)]
    public void Largest_cache_the_message_allows_is_accepted_and_one_more_is_not(int count)
    {
        // cache * 1.5 must not exceed count; the error says the largest cache that fits.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-ratio", count, 64, cacheSize: Math.Min(count, Mempool.MaxCacheSize)));
        Match match = AtMost().Match(e.Message);
        Assert.True(match.Success, e.Message);
        int max = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(max * 1.5 <= count, $"stated maximum {max} exceeds {count} / 1.5");

        using (var ok = Mempool.Create("pool-ratio-ok", count, 64, cacheSize: max))
        {
            Assert.Equal(max, ok.CacheSize);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Mempool.Create("pool-ratio-over", count, 64, cacheSize: max + 1));
    }

    [Fact]
    public void Properties_describe_the_pool()
    {
        using var plain = Mempool.Create("pool-plain", 10, 100, cacheSize: 4);
        Assert.Equal("pool-plain", plain.Name);
        Assert.Equal(10, plain.Capacity);
        Assert.Equal(128, plain.ElementSize); // rounded up to a cache line
        Assert.Equal(4, plain.CacheSize);
        Assert.False(plain.IsPacketPool);
        Assert.Equal(0, plain.DataRoomSize);
        Assert.Equal(10, plain.AvailableCount);
        Assert.Equal(0, plain.InUseCount);
        Assert.Contains("mempool 'pool-plain': 10 x 128 B, cache 4", plain.ToString(), StringComparison.Ordinal);

        using var packets = Mempool.CreatePacketPool("pool-pkt", 10, cacheSize: 0, privateSize: 8);
        Assert.True(packets.IsPacketPool);
        Assert.Equal(Mempool.DefaultDataRoomSize, packets.DataRoomSize);
        Assert.Equal(8, packets.PrivateSize);
        Assert.Equal(128 + 8 + Mempool.DefaultDataRoomSize + 56, packets.ElementSize); // 2312 rounded up to 2368
        Assert.Equal(0, packets.ElementSize % 64);
        Assert.True(packets.Region.Size >= (long)packets.ElementSize * 10);
    }

    [Fact]
    public void Get_and_put_are_all_or_nothing_and_the_audit_is_exact()
    {
        using var pool = Mempool.Create("pool-exhaust", 10, 64, cacheSize: 0);
        var objs = new nint[11];

        Assert.Equal(0, pool.GetBulk(objs));
        Assert.Equal(new MempoolAudit(10, 10, 0, 0), pool.Audit());

        Assert.Equal(7, pool.GetBulk(objs.AsSpan(0, 7)));
        Assert.Equal(new MempoolAudit(10, 3, 0, 7), pool.Audit());
        Assert.Equal(7, pool.InUseCount);
        Assert.Equal(3, pool.AvailableCount);

        Assert.Equal(0, pool.GetBulk(objs.AsSpan(7, 4)));
        Assert.Equal(3, pool.Audit().InRing);
        Assert.Equal(3, pool.GetBulk(objs.AsSpan(7, 3)));
        Assert.Equal(0, pool.Get());
        Assert.Equal(new MempoolAudit(10, 0, 0, 10), pool.Audit());
        Assert.False(pool.Audit().IsFull);
        Assert.Equal(0, pool.Audit().Available);

        Assert.Equal(10, objs.AsSpan(0, 10).ToArray().Distinct().Count());
        foreach (nint o in objs.AsSpan(0, 10))
        {
            Assert.True(pool.Contains(o));
        }

        pool.PutBulk(objs.AsSpan(0, 9));
        Assert.Equal(1, pool.InUseCount);
        pool.Put(objs[9]);
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, pool.DoubleFreeCount);

        nint one = pool.Get();
        Assert.NotEqual(0, one);
        Assert.Equal(1, pool.InUseCount);
        pool.Put(one);
        Assert.Equal(0, pool.InUseCount);
    }

    [Fact]
    public void AllocBulk_is_all_or_nothing_and_Alloc_returns_null_when_empty()
    {
        using var pool = Mempool.CreatePacketPool("pool-alloc-exhaust", 40, cacheSize: 0, dataRoomSize: 256);
        var burst = new Mbuf[32];

        Assert.Equal(32, pool.AllocBulk(burst));
        var second = new Mbuf[9];
        Assert.Equal(0, pool.AllocBulk(second));
        Assert.All(second, m => Assert.True(m.IsNull));
        Assert.Equal(32, pool.InUseCount);

        Assert.Equal(8, pool.AllocBulk(second.AsSpan(0, 8)));
        Assert.True(pool.Alloc().IsNull);
        Assert.Equal(0, pool.AllocBulk(second.AsSpan(8, 1)));
        Assert.Equal(40, pool.InUseCount);

        foreach (Mbuf m in burst)
        {
            Assert.Equal(128, m.DataOffset);
            Assert.Equal(1, m.RefCount);
        }

        Mbuf.FreeBulk(burst);
        Mbuf.FreeBulk(second.AsSpan(0, 8));
        Assert.True(pool.Audit().IsFull);

        Mbuf one = pool.Alloc();
        Assert.False(one.IsNull);
        one.Free();
    }

    [Fact]
    public void Contains_accepts_only_object_starts_inside_the_pool()
    {
        using var pool = Mempool.Create("pool-contains", 8, 100, cacheSize: 0);
        var objs = new nint[8];
        Assert.Equal(8, pool.GetBulk(objs));
        nint lowest = objs.Min();
        nint highest = objs.Max();

        Assert.Equal(pool.Region.Address, lowest);
        Assert.Equal(lowest + (7 * pool.ElementSize), highest);
        foreach (nint o in objs)
        {
            Assert.True(pool.Contains(o));
            Assert.Equal(0, (o - lowest) % pool.ElementSize);
        }

        Assert.False(pool.Contains(lowest + 1));
        Assert.False(pool.Contains(lowest + 64));
        Assert.False(pool.Contains(highest - 1));
        Assert.False(pool.Contains(lowest - pool.ElementSize));
        Assert.False(pool.Contains(lowest - 1));
        Assert.False(pool.Contains(highest + pool.ElementSize));
        Assert.False(pool.Contains(0));
        Assert.False(pool.Contains(nint.MaxValue));

        pool.PutBulk(objs);
    }

    [Fact]
    public void FromId_finds_the_pool_that_owns_an_mbuf()
    {
        using var a = Mempool.CreatePacketPool("pool-id-a", 4, cacheSize: 0, dataRoomSize: 256);
        using var b = Mempool.CreatePacketPool("pool-id-b", 4, cacheSize: 0, dataRoomSize: 256);

        Assert.NotEqual(a.Id, b.Id);
        Assert.NotEqual(0, a.Id); // 0 is never handed out
        Assert.Same(a, Mempool.FromId(a.Id));
        Assert.Same(b, Mempool.FromId(b.Id));

        Mbuf m = b.Alloc();
        Assert.Equal(b.Id, m.Header.PoolId);
        Assert.Same(b, m.Pool);
        m.Free();
    }

    [Fact]
    public void Pools_get_distinct_ids_and_Dispose_frees_the_id()
    {
        var pools = new Mempool[16];
        for (int i = 0; i < pools.Length; i++)
        {
            pools[i] = Mempool.Create("pool-ids-" + i.ToString(CultureInfo.InvariantCulture), 2, 64);
        }

        Assert.Equal(pools.Length, pools.Select(p => p.Id).Distinct().Count());
        ushort id = pools[5].Id;
        pools[5].Dispose();
        Assert.True(pools[5].Region.IsDisposed);
        Assert.Null(Mempool.FromId(id));
        pools[5].Dispose(); // idempotent

        foreach (Mempool p in pools)
        {
            if (p != pools[5])
            {
                Assert.Same(p, Mempool.FromId(p.Id));
                p.Dispose();
                Assert.Null(Mempool.FromId(p.Id));
            }
        }
    }

    [Fact]
    public void DoubleFreeCount_stays_zero_in_normal_use()
    {
        using var pool = Mempool.Create("pool-normal", 64, 64, cacheSize: 0);
        var objs = new nint[16];
        for (int round = 0; round < 100; round++)
        {
            Assert.Equal(16, pool.GetBulk(objs));
            pool.PutBulk(objs);
        }

        Assert.Equal(0, pool.DoubleFreeCount);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Putting_an_object_back_once_too_often_is_counted_as_a_double_free()
    {
        using var pool = Mempool.Create("pool-double", 4, 64, cacheSize: 0);
        nint obj = pool.Get();
        Assert.NotEqual(0, obj);
        Assert.Equal(3, pool.Audit().InRing);

        pool.Put(obj);
        Assert.Equal(0, pool.DoubleFreeCount);
        Assert.Equal(4, pool.Audit().InRing);

        pool.Put(obj); // the ring already holds every object: no room for this one
        Assert.Equal(1, pool.DoubleFreeCount);
        Assert.Equal(4, pool.Audit().InRing);
        Assert.Equal(0, pool.Audit().InUse);

        pool.PutBulk([obj, obj]);
        Assert.Equal(3, pool.DoubleFreeCount);
    }

    [GeneratedRegex(@"at most (\d+)")]
    private static partial Regex AtMost();
}
