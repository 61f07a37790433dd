namespace Hyperlane.Vhost.Queues;

/// <summary>A used descriptor the packed queue will write once a receive packet's buffers are all taken.</summary>
internal readonly struct PackedUsedElement
{
    public PackedUsedElement(ushort id, int descriptors, uint length)
    {
        Id = id;
        Descriptors = descriptors;
        Length = length;
    }

    /// <summary>The buffer id.</summary>
    public ushort Id { get; }

    /// <summary>Ring descriptors the chain occupies.</summary>
    public int Descriptors { get; }

    /// <summary>Bytes written (0 for a chain returned unused).</summary>
    public uint Length { get; }
}
