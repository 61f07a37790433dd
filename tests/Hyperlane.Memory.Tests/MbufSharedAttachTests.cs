using System.Runtime.InteropServices;

namespace Hyperlane.Memory.Tests;

/// <summary>Sharing an external buffer never overwrites a reference the mbuf already holds.</summary>
public unsafe class MbufSharedAttachTests
{
    [Fact]
    public void Only_a_direct_single_reference_mbuf_takes_a_shared_attachment()
    {
        using var pool = Mempool.CreatePacketPool("shared-attach-" + Guid.NewGuid().ToString("N"), 64, 0);
        using var releaser = new CountingReleaser();
        var info = (ExternalBufferInfo*)NativeMemory.AllocZeroed((nuint)sizeof(ExternalBufferInfo));
        var buffer = (byte*)NativeMemory.AllocZeroed(256);
        try
        {
            ExternalBufferInfo.Init(ref *info, releaser, 7);
            Mbuf a = pool.Alloc(), b = pool.Alloc(), c = pool.Alloc();
            a.AttachExternal((nint)buffer, (ulong)buffer, 256, ref *info);
            Assert.False(a.TryAttachSharedExternal(a), "an mbuf cannot attach to itself");
            Assert.True(b.TryAttachSharedExternal(a));
            Assert.Equal(2, info->RefCnt);
            Assert.False(b.TryAttachSharedExternal(a), "b already holds a reference: taking another would leak it");
            c.AddReferences(1);
            Assert.False(c.TryAttachSharedExternal(a), "a shared mbuf cannot be re-pointed under its other holders");
            Assert.Equal(2, info->RefCnt);
            c.Free();
            c.Free();
            a.Free();
            Assert.Equal(0, releaser.Releases);
            b.Free();
            Assert.Equal(1, releaser.Releases);
            Assert.True(pool.Audit().IsFull);
        }
        finally
        {
            NativeMemory.Free(buffer);
            NativeMemory.Free(info);
        }
    }

    private sealed class CountingReleaser : ExternalBufferReleaser
    {
        public int Releases { get; private set; }

        public override void Release(nint bufferAddress, nint opaque) => Releases++;
    }
}
