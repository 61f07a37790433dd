using System.Runtime.InteropServices;
using Hyperlane.Testing;

namespace Hyperlane.Memory.Tests;

/// <summary>External buffers (zero-copy Rx): attach, share, and one release when the last mbuf lets go.</summary>
public sealed unsafe class MbufExternalBufferTests : IDisposable
{
    private const int PrivSize = 16;
    private const int BufferSize = 4096;
    private static readonly nint Opaque = 0x1234_5678;

    private readonly Mempool pool = Mempool.CreatePacketPool("mbuf-ext", 16, cacheSize: 0, privateSize: PrivSize);
    private readonly CountingReleaser releaser = new();
    private readonly byte* buffer = (byte*)NativeMemory.AlignedAlloc(BufferSize, 64);
    private readonly ExternalBufferInfo* info = (ExternalBufferInfo*)NativeMemory.AllocZeroed((nuint)sizeof(ExternalBufferInfo));

    public void Dispose()
    {
        releaser.Dispose();
        NativeMemory.Free(info);
        NativeMemory.AlignedFree(buffer);
        pool.Dispose();
    }

    [Fact]
    public void Last_free_of_shared_external_buffer_releases_it_once_and_restores_both_mbufs()
    {
        ExternalBufferInfo.Init(ref *info, releaser, Opaque, references: 1);
        Assert.Equal(1, info->RefCnt);
        Assert.Equal(releaser.Handle, info->Releaser);
        Assert.Equal(Opaque, info->Opaque);

        Mbuf first = pool.Alloc();
        first.AttachExternal((nint)buffer, (ulong)buffer, BufferSize, ref *info);
        Assert.True(first.IsExternal);
        Assert.True(first.OffloadFlags.HasFlag(MbufOffloadFlags.ExternalAttached));
        Assert.Equal((nint)buffer, first.BufferAddress);
        Assert.Equal(BufferSize, first.BufferLength);
        Assert.Equal(0, first.DataOffset);
        Assert.Equal(0, first.DataLength);
        Assert.Equal((nint)info, first.Header.ShInfo);
        Assert.Equal((ulong)buffer, first.DataIova);

        // What the device wrote lands in the external buffer; the mbuf shows it in place.
        Assert.True(first.TryAppend(100, out Span<byte> data));
        fixed (byte* d = data)
        {
            Assert.Equal((nint)buffer, (nint)d);
        }

        for (int i = 0; i < 100; i++)
        {
            buffer[i] = (byte)(i + 1);
        }

        fixed (byte* d = first.Data)
        {
            Assert.Equal((nint)buffer, (nint)d);
        }

        Assert.Equal(100, first.Data.Length);
        Assert.Equal(100, first.Data[99]);
        Assert.Null(first.Validate());

        Mbuf second = pool.Alloc();
        Assert.True(second.TryAttachSharedExternal(first));
        Assert.Equal(2, info->RefCnt);
        Assert.True(second.IsExternal);
        Assert.Equal((nint)buffer, second.BufferAddress);
        Assert.Equal(100, second.DataLength);
        Assert.Equal(100u, second.PacketLength);
        Assert.True(second.Data.SequenceEqual(first.Data));
        Assert.Null(second.Validate());

        first.Free();
        Assert.Equal(0, releaser.Releases);
        Assert.Equal(1, info->RefCnt);
        Assert.Equal(1, pool.Audit().InUse);
        AssertOwnBuffer(first);

        second.Free();
        Assert.Equal(1, releaser.Releases);
        Assert.Equal((nint)buffer, releaser.LastAddress);
        Assert.Equal(Opaque, releaser.LastOpaque);
        Assert.Equal(0, info->RefCnt);
        AssertOwnBuffer(second);

        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void FreeBulk_detaches_external_buffers_too()
    {
        ExternalBufferInfo.Init(ref *info, releaser, Opaque, references: 3);
        var burst = new Mbuf[3];
        Assert.Equal(3, pool.AllocBulk(burst));
        for (int i = 0; i < burst.Length; i++)
        {
            // Three packets carved out of one buffer, as a multi-packet Rx buffer is.
            burst[i].AttachExternal((nint)(buffer + (i * 1024)), (ulong)(buffer + (i * 1024)), 1024, ref *info);
            Assert.True(burst[i].TryAppend(60 + i, out _));
        }

        Mbuf.FreeBulk(burst.AsSpan(0, 2));
        Assert.Equal(0, releaser.Releases);
        Mbuf.FreeBulk(burst.AsSpan(2));
        Assert.Equal(1, releaser.Releases);
        Assert.Equal((nint)(buffer + 2048), releaser.LastAddress); // the buffer of the last mbuf to go
        Assert.Equal(Opaque, releaser.LastOpaque);
        foreach (Mbuf m in burst)
        {
            AssertOwnBuffer(m);
        }

        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Extra_reference_on_an_external_mbuf_delays_the_release()
    {
        ExternalBufferInfo.Init(ref *info, releaser, Opaque);
        Mbuf m = pool.Alloc();
        m.AttachExternal((nint)buffer, (ulong)buffer, BufferSize, ref *info);
        m.AddReferences(1);

        m.Free();
        Assert.Equal(0, releaser.Releases);
        Assert.True(m.IsExternal);
        Assert.Equal(1, pool.Audit().InUse);

        m.Free();
        Assert.Equal(1, releaser.Releases);
        AssertOwnBuffer(m);
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Freeing_external_mbufs_allocates_nothing()
    {
        // Warm-up: JIT and type loading of the release path.
        RoundTrip();
        long before = ThreadAllocations.Baseline();
        for (int i = 0; i < 100; i++)
        {
            RoundTrip();
        }

        Assert.Equal(0, ThreadAllocations.Since(before));
        Assert.Equal(101, releaser.Releases);

        void RoundTrip()
        {
            ExternalBufferInfo.Init(ref *info, releaser, Opaque);
            Mbuf a = pool.Alloc();
            Mbuf b = pool.Alloc();
            a.AttachExternal((nint)buffer, (ulong)buffer, BufferSize, ref *info);
            b.TryAttachSharedExternal(a);
            a.Free();
            b.Free();
        }
    }

    [Fact]
    public void Sharing_needs_an_external_source()
    {
        Mbuf a = pool.Alloc();
        Mbuf b = pool.Alloc();
        Assert.True(a.TryAppend(10, out _));
        Assert.False(b.TryAttachSharedExternal(a));
        Assert.False(b.IsExternal);
        Assert.Equal(0, b.DataLength);
        AssertOwnBuffer(b);
        Mbuf.FreeBulk([a, b]);
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, releaser.Releases);
    }

    [Fact]
    public void Init_validates_its_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => ExternalBufferInfo.Init(ref *info, null!, Opaque));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExternalBufferInfo.Init(ref *info, releaser, Opaque, references: 0));
        info->Reserved = 99;
        ExternalBufferInfo.Init(ref *info, releaser, Opaque, references: 5);
        Assert.Equal(5, info->RefCnt);
        Assert.Equal(0, info->Reserved);
    }

    private void AssertOwnBuffer(Mbuf m)
    {
        Assert.False(m.IsExternal);
        Assert.Equal(m.Pointer + MbufHeader.Size + PrivSize, m.BufferAddress);
        Assert.Equal((ulong)(m.Pointer + MbufHeader.Size + PrivSize), m.Header.BufIova);
        Assert.Equal(pool.DataRoomSize, m.BufferLength);
        Assert.Equal(0, m.Header.ShInfo);
        Assert.Equal(1, m.RefCount);
        Assert.Equal(pool.Id, m.Header.PoolId);
        Assert.True(pool.Contains(m.Pointer));
    }

    /// <summary>Counts releases; allocates nothing in <see cref="Release"/>, as the contract asks.</summary>
    private sealed class CountingReleaser : ExternalBufferReleaser
    {
        private int releases;

        public int Releases => Volatile.Read(ref releases);

        public nint LastAddress { get; private set; }

        public nint LastOpaque { get; private set; }

        public override void Release(nint bufferAddress, nint opaque)
        {
            LastAddress = bufferAddress;
            LastOpaque = opaque;
            Interlocked.Increment(ref releases);
        }
    }
}
