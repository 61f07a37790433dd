namespace Hyperlane.Vhost.Memory;

/// <summary>One host-contiguous piece of a guest range that <see cref="GuestMemory.TryTranslateChunks"/> split.</summary>
public readonly struct GuestMemoryChunk
{
    /// <summary>A chunk.</summary>
    public GuestMemoryChunk(nint hostAddr, ulong length)
    {
        HostAddr = hostAddr;
        Length = length;
    }

    /// <summary>Our address of the chunk's first byte.</summary>
    public nint HostAddr { get; }

    /// <summary>Length in bytes (never 0).</summary>
    public ulong Length { get; }
}
