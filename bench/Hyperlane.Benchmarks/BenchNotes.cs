using System.Collections.Concurrent;

namespace Hyperlane.Benchmarks;

/// <summary>
/// Facts a benchmark learns while it runs (memory backing, whether the lcore mark had to be set on
/// the benchmark thread), written into the summary JSON next to the figures. Benchmarks run in
/// process (see <see cref="BenchConfig"/>), so a static is enough.
/// </summary>
public static class BenchNotes
{
    private static readonly ConcurrentDictionary<string, string> Notes = new(StringComparer.Ordinal);

    public static void Set(string key, string value) => Notes[key] = value;

    public static IReadOnlyDictionary<string, string> Snapshot() =>
        new SortedDictionary<string, string>(Notes, StringComparer.Ordinal);
}
