namespace Hyperlane.Memory.Tests;

/// <summary>
/// The multi-threaded ring tests run alone (not in parallel with other test classes), so that each
/// gets both cores of a small machine and its oversubscription is the one it asked for.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RingConcurrencyCollection
{
    public const string Name = "Ring concurrency";
}
