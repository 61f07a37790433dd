namespace Hyperlane.Core.Ports;

/// <summary>Receive-side scaling: the hash key and which packet types to spread over the Rx queues.</summary>
public sealed record RssConf
{
    /// <summary>Hash key; null keeps the driver's default.</summary>
    public IReadOnlyList<byte>? Key { get; init; }

    public RssHashFunctions HashFunctions { get; init; }
}
