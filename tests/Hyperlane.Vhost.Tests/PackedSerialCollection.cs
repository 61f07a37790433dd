namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Packed-queue tests that must not share the process with other running tests: allocation measurements
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/> was seen to report a few KiB on a thread that only spun while
/// other tests allocated) and the two-thread guest/backend tests (they want the cores).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackedSerialCollection
{
    public const string Name = "Packed vhost queue serial (allocation, threads)";
}
