namespace Hyperlane.Memory.Tests;

/// <summary>
/// Tests that change or depend on host-wide state (reserved hugepages, <c>HostFs.Root</c>) or that want
/// both cores of a small machine (lcore cache hammering) run alone, never in parallel with other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemorySerialCollection
{
    public const string Name = "Memory serial (host state, all cores)";
}
