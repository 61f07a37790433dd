using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// Fixed-size objects in one <see cref="MemoryRegion"/>, with a lock-free shared ring of free objects
/// and a private cache per lcore (DESIGN.md, Memory). Packet pools hold mbufs: a 128-byte
/// <see cref="MbufHeader"/>, an optional private area, and a data room that starts with 128 bytes
/// of headroom. <see cref="Audit"/> tells how many objects are out, so tests prove nothing leaked.
/// </summary>
public sealed unsafe class Mempool : IDisposable
{
    /// <summary>Default data room of a packet mbuf: 2048 bytes of data plus the headroom (RTE_MBUF_DEFAULT_BUF_SIZE).</summary>
    public const int DefaultDataRoomSize = 2048 + MbufHeader.DefaultHeadroom;

    /// <summary>Largest per-lcore cache (RTE_MEMPOOL_CACHE_MAX_SIZE).</summary>
    public const int MaxCacheSize = 512;

    private const int MaxPools = 4096;
    private static readonly Mempool?[] Pools = new Mempool?[MaxPools];
    private static readonly Lock RegistryLock = new();

    private readonly Ring<nint> ring;
    private readonly LcoreCache*[] caches = new LcoreCache*[LcoreId.MaxLcores];
    private readonly int flushThreshold;
    private readonly nint objectsStart;
    private readonly long objectsEnd;
    private int disposed;
    private long doubleFreeCount;

    private Mempool(string name, int count, int elementSize, int cacheSize, ushort dataRoomSize, ushort privSize, RegionOptions? regionOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 1 << 26);
        ArgumentOutOfRangeException.ThrowIfNegative(cacheSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cacheSize, MaxCacheSize);
        if (cacheSize > 0 && cacheSize * 3 > count * 2) // cache * 1.5 > count, without truncating
        {
            throw new ArgumentOutOfRangeException(nameof(cacheSize), $"mempool '{name}': cache of {cacheSize} is too large for {count} objects (at most {count * 2 / 3})");
        }

        Name = name;
        Capacity = count;
        ElementSize = (elementSize + 63) & ~63; // every object starts on a cache line
        CacheSize = cacheSize;
        DataRoomSize = dataRoomSize;
        PrivateSize = privSize;
        flushThreshold = cacheSize * 3 / 2;

        Region = MemoryRegion.Create(name, (long)ElementSize * count, regionOptions);
        objectsStart = Region.Address;
        objectsEnd = (long)Region.Address + ((long)ElementSize * count);
        ring = new Ring<nint>(name, count);
        try
        {
            Id = Register(this);
        }
        catch
        {
            ring.Dispose();
            Region.Dispose();
            throw;
        }

        var batch = new nint[Math.Min(count, 1024)];
        for (int i = 0; i < count; i += batch.Length)
        {
            int n = Math.Min(batch.Length, count - i);
            for (int j = 0; j < n; j++)
            {
                nint obj = objectsStart + (nint)((long)(i + j) * ElementSize);
                if (IsPacketPool)
                {
                    InitMbuf((MbufHeader*)obj);
                }

                batch[j] = obj;
            }

            ring.EnqueueBulk(batch.AsSpan(0, n));
        }
    }

    public string Name { get; }

    /// <summary>Number of objects the pool holds.</summary>
    public int Capacity { get; }

    /// <summary>Bytes per object (rounded up to a cache line).</summary>
    public int ElementSize { get; }

    public int CacheSize { get; }

    /// <summary>Data room of each mbuf (including headroom), or 0 for a plain object pool.</summary>
    public ushort DataRoomSize { get; }

    public ushort PrivateSize { get; }

    public bool IsPacketPool => DataRoomSize > 0;

    /// <summary>Index stored in each mbuf's <see cref="MbufHeader.PoolId"/>.</summary>
    public ushort Id { get; }

    public MemoryRegion Region { get; }

    /// <summary>Objects not in use (shared ring plus caches); a snapshot.</summary>
    public int AvailableCount => Audit().Available;

    /// <summary>Objects handed out and not yet returned; a snapshot.</summary>
    public int InUseCount => Audit().InUse;

    /// <summary>Objects returned that the pool had no room for: a double free somewhere. Should stay 0.</summary>
    public long DoubleFreeCount => Interlocked.Read(ref doubleFreeCount);

    /// <summary>Creates a pool of <paramref name="count"/> packet mbufs (rte_pktmbuf_pool_create).</summary>
    public static Mempool CreatePacketPool(string name, int count, int cacheSize = 256, int dataRoomSize = DefaultDataRoomSize, int privateSize = 0, RegionOptions? region = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataRoomSize, MbufHeader.DefaultHeadroom + 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataRoomSize, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(privateSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(privateSize, 4096);
        privateSize = (privateSize + 7) & ~7;
        return new Mempool(name, count, MbufHeader.Size + privateSize + dataRoomSize, cacheSize, (ushort)dataRoomSize, (ushort)privateSize, region);
    }

    /// <summary>Creates a pool of <paramref name="count"/> plain objects of <paramref name="elementSize"/> bytes.</summary>
    public static Mempool Create(string name, int count, int elementSize, int cacheSize = 0, RegionOptions? region = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elementSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementSize, 1 << 20);
        return new Mempool(name, count, elementSize, cacheSize, 0, 0, region);
    }

    /// <summary>
    /// The pools that exist now, in creation order (lowest id first). For a driver that must share every packet
    /// pool the application might transmit from with a peer process (virtio_user's memory table), as DPDK shares
    /// all of its memory segments.
    /// </summary>
    public static IReadOnlyList<Mempool> Snapshot()
    {
        var list = new List<Mempool>();
        lock (RegistryLock)
        {
            for (int i = 1; i < MaxPools; i++)
            {
                if (Pools[i] is { } pool)
                {
                    list.Add(pool);
                }
            }
        }

        return list;
    }

    /// <summary>The pool registered under <paramref name="id"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mempool FromId(ushort id) => Pools[id]!;

    /// <summary>True when <paramref name="obj"/> is the start of one of this pool's objects.</summary>
    public bool Contains(nint obj) =>
        obj >= objectsStart && obj < objectsEnd && ((long)obj - objectsStart) % ElementSize == 0;

    /// <summary>Takes <paramref name="objects"/>.Length objects, all or none; returns how many (n or 0).</summary>
    public int GetBulk(Span<nint> objects)
    {
        int n = objects.Length;
        LcoreCache* c = CacheForCurrentLcore();
        if (c == null || n > CacheSize)
        {
            return ring.DequeueBulk(objects);
        }

        if (c->Len < n)
        {
            // Refill so that after this get the cache holds CacheSize objects.
            int want = CacheSize + n - c->Len;
            int got = ring.DequeueBurst(new Span<nint>(Objs(c) + c->Len, want));
            c->Len += got;
            if (c->Len < n)
            {
                return 0;
            }
        }

        // Hand out from the top, most recently freed first (warm in cache).
        nint* src = Objs(c) + c->Len - n;
        new ReadOnlySpan<nint>(src, n).CopyTo(objects);
        c->Len -= n;
        return n;
    }

    /// <summary>Returns objects to the pool.</summary>
    public void PutBulk(ReadOnlySpan<nint> objects)
    {
        int n = objects.Length;
        LcoreCache* c = CacheForCurrentLcore();
        if (c == null || n > CacheSize)
        {
            EnqueueAll(objects);
            return;
        }

        objects.CopyTo(new Span<nint>(Objs(c) + c->Len, n));
        c->Len += n;
        if (c->Len >= flushThreshold)
        {
            int excess = c->Len - CacheSize;
            EnqueueAll(new ReadOnlySpan<nint>(Objs(c) + CacheSize, excess));
            c->Len = CacheSize;
        }
    }

    /// <summary>Takes one object, or 0 when the pool is empty.</summary>
    public nint Get()
    {
        nint obj = 0;
        return GetBulk(new Span<nint>(ref obj)) == 1 ? obj : 0;
    }

    /// <summary>Returns one object.</summary>
    public void Put(nint obj) => PutBulk(new ReadOnlySpan<nint>(in obj));

    /// <summary>Allocates <paramref name="packets"/>.Length fresh mbufs, all or none (rte_pktmbuf_alloc_bulk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AllocBulk(Span<Mbuf> packets)
    {
        Span<nint> raw = MemoryMarshal.Cast<Mbuf, nint>(packets);
        if (GetBulk(raw) == 0)
        {
            return 0;
        }

        for (int i = 0; i < raw.Length; i++)
        {
            Mbuf.ResetHeader((MbufHeader*)raw[i]);
        }

        return raw.Length;
    }

    /// <summary>Allocates one fresh mbuf, or a null handle when the pool is empty.</summary>
    public Mbuf Alloc()
    {
        nint p = Get();
        if (p == 0)
        {
            return default;
        }

        Mbuf.ResetHeader((MbufHeader*)p);
        return Mbuf.FromPointer(p);
    }

    /// <summary>
    /// Counts where the objects are. Exact when no other thread is using the pool; a snapshot otherwise.
    /// </summary>
    public MempoolAudit Audit()
    {
        int inCaches = 0;
        for (int i = 0; i < caches.Length; i++)
        {
            LcoreCache* c = caches[i];
            if (c != null)
            {
                inCaches += Volatile.Read(ref c->Len);
            }
        }

        int inRing = ring.Count;
        return new MempoolAudit(Capacity, inRing, inCaches, Capacity - inRing - inCaches);
    }

    /// <summary>Moves the calling lcore's cached objects back to the shared ring (e.g. before an audit from another thread).</summary>
    public void FlushCurrentLcoreCache()
    {
        LcoreCache* c = CacheForCurrentLcore();
        if (c != null && c->Len > 0)
        {
            EnqueueAll(new ReadOnlySpan<nint>(Objs(c), c->Len));
            c->Len = 0;
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"mempool '{Name}': {Capacity} x {ElementSize} B, cache {CacheSize}, {Region.Backing}");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        lock (RegistryLock)
        {
            Pools[Id] = null;
        }

        for (int i = 0; i < caches.Length; i++)
        {
            if (caches[i] != null)
            {
                NativeMemory.AlignedFree(caches[i]);
                caches[i] = null;
            }
        }

        ring.Dispose();
        Region.Dispose();
    }

    /// <summary>
    /// Drops one reference to segment <paramref name="m"/>; true when it reached zero and the segment
    /// must go back to its pool. Detaches external buffers (calling their releaser at zero) and leaves
    /// the header as a pool object expects it: one reference, no next segment.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool PreFree(MbufHeader* m)
    {
        if (m->RefCnt != 1)
        {
            if (Interlocked.Decrement(ref m->RefCnt) != 0)
            {
                return false;
            }

            m->RefCnt = 1;
        }

        if ((m->OlFlags & (ulong)MbufOffloadFlags.ExternalAttached) != 0)
        {
            DetachExternal(m);
        }

        m->Next = 0;
        m->NbSegs = 1;
        return true;
    }

    /// <summary>Frees whole packets, returning segments to their pools in batches.</summary>
    internal static void FreePackets(ReadOnlySpan<Mbuf> packets)
    {
        // The batch is an inline array, not stackalloc: a method with stackalloc and a loop is compiled without tiering
        // or profile data.
        const int Batch = FreeBatch.Length;
        Unsafe.SkipInit(out FreeBatch batch);
        nint* pending = (nint*)Unsafe.AsPointer(ref batch[0]);
        int count = 0;
        Mempool? pool = null;
        ushort poolId = 0;

        for (int i = 0; i < packets.Length; i++)
        {
            MbufHeader* m = (MbufHeader*)packets[i].Pointer;
            while (m != null)
            {
                MbufHeader* next = (MbufHeader*)m->Next;
                if (PreFree(m))
                {
                    if (pool is null || m->PoolId != poolId || count == Batch)
                    {
                        if (count > 0)
                        {
                            pool!.PutBulk(new ReadOnlySpan<nint>(pending, count));
                            count = 0;
                        }

                        poolId = m->PoolId;
                        pool = Pools[poolId];
                    }

                    pending[count++] = (nint)m;
                }

                m = next;
            }
        }

        if (count > 0)
        {
            pool!.PutBulk(new ReadOnlySpan<nint>(pending, count));
        }
    }

    /// <summary>The mbufs <see cref="FreePackets"/> gathers for one pool before putting them back together.</summary>
    [InlineArray(Length)]
    private struct FreeBatch
    {
        public const int Length = 64;

        private nint _first;
    }

    private static void DetachExternal(MbufHeader* m)
    {
        var info = (ExternalBufferInfo*)m->ShInfo;
        nint buffer = m->BufAddr;
        if (info != null && Interlocked.Decrement(ref info->RefCnt) == 0)
        {
            ExternalBufferReleaser.Invoke(info->Releaser, buffer, info->Opaque);
        }

        Pools[m->PoolId]!.InitMbuf(m);
    }

    private static ushort Register(Mempool pool)
    {
        lock (RegistryLock)
        {
            for (int i = 1; i < MaxPools; i++)
            {
                if (Pools[i] is null)
                {
                    Pools[i] = pool;
                    return (ushort)i;
                }
            }
        }

        throw new InvalidOperationException($"mempool '{pool.Name}': more than {MaxPools - 1} mempools exist");
    }

    /// <summary>Points the mbuf at its own data room, as the pool created it.</summary>
    private void InitMbuf(MbufHeader* m)
    {
        nint buf = (nint)m + MbufHeader.Size + PrivateSize;
        m->BufAddr = buf;
        m->BufIova = (ulong)buf;
        m->BufLen = DataRoomSize;
        m->PrivSize = PrivateSize;
        m->PoolId = Id;
        m->RefCnt = 1;
        m->ShInfo = 0;
        m->OlFlags = 0;
        m->Next = 0;
        m->NbSegs = 1;
        m->DataOff = Math.Min(MbufHeader.DefaultHeadroom, DataRoomSize);
    }

    private void EnqueueAll(ReadOnlySpan<nint> objects)
    {
        // The ring holds every object of the pool, so this cannot run out of room unless an object was freed twice.
        int done = ring.EnqueueBurst(objects);
        if (done != objects.Length)
        {
            Interlocked.Add(ref doubleFreeCount, objects.Length - done);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private LcoreCache* CacheForCurrentLcore()
    {
        int lcore = LcoreId.Current;
        if ((uint)lcore >= LcoreId.MaxLcores || CacheSize == 0)
        {
            return null;
        }

        LcoreCache* c = caches[lcore];
        return c != null ? c : CreateCache(lcore);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private LcoreCache* CreateCache(int lcore)
    {
        // Once per lcore and pool, on first use: native memory, not the managed heap.
        var c = (LcoreCache*)NativeMemory.AlignedAlloc((nuint)(sizeof(LcoreCache) + (sizeof(nint) * CacheSize * 3)), 64);
        c->Len = 0;
        caches[lcore] = c;
        return c;
    }

    /// <summary>The cache's object slots follow its 64-byte header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint* Objs(LcoreCache* c) => (nint*)((byte*)c + 64);

    [StructLayout(LayoutKind.Sequential, Size = 64)]
    private struct LcoreCache
    {
        public int Len;
    }
}
