using System.Runtime.InteropServices;
using Hyperlane.Linux.Unix;
using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;

namespace Hyperlane.Vhost.Tests;

/// <summary>A queue whose only work is reading the first page of a mapping, reporting whether it was already unmapped.</summary>
internal sealed class SessionObservedQueue(SharedMapping? mapping) : IVhostQueue
{
    public int Index => 0;

    public VhostQueueStats Stats { get; } = new();

    /// <summary>Reads the mapping (a fault if it is unmapped); true when it was disposed while we were inside the queue.</summary>
    public bool Touch()
    {
        if (mapping is null)
        {
            return false;
        }

        if (mapping.IsDisposed)
        {
            return true;
        }

        try
        {
            nint p = mapping.Pointer;
            int sum = 0;
            for (int i = 0; i < 4096; i += 64)
            {
                sum += Marshal.ReadByte(p, i);
            }

            return mapping.IsDisposed && sum >= 0;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    public int Dequeue(Mempool pool, Span<Mbuf> packets) => 0;

    public int Enqueue(ReadOnlySpan<Mbuf> packets) => 0;

    public uint GetBase() => 0;
}
