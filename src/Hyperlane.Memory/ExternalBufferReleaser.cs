using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// Told when the last mbuf attached to an external buffer is freed (zero-copy Rx returns the buffer
/// to the device or the guest here). Create one per driver queue, not per packet: it pins itself
/// with a GCHandle so native shared info can name it; dispose it when the queue goes away.
/// </summary>
public abstract class ExternalBufferReleaser : IDisposable
{
    private GCHandle handle;

    protected ExternalBufferReleaser()
    {
        handle = GCHandle.Alloc(this, GCHandleType.Normal);
    }

    /// <summary>The value stored in <see cref="ExternalBufferInfo.Releaser"/>.</summary>
    public nint Handle => GCHandle.ToIntPtr(handle);

    /// <summary>Called on the thread that freed the last reference. Must not throw or allocate.</summary>
    public abstract void Release(nint bufferAddress, nint opaque);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    internal static void Invoke(nint releaser, nint bufferAddress, nint opaque)
    {
        if (releaser != 0 && GCHandle.FromIntPtr(releaser).Target is ExternalBufferReleaser r)
        {
            r.Release(bufferAddress, opaque);
        }
    }

    protected virtual void Dispose(bool disposing)
    {
        if (handle.IsAllocated)
        {
            handle.Free();
        }
    }
}
