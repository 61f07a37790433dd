using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Hyperlane.Benchmarks;

/// <summary>
/// The suite's default job: short (3 warmup + 5 measured iterations of ~250 ms, one launch) and in
/// process, so the whole micro suite runs in well under 2 minutes on a 2-core machine and needs no
/// generated project build. Columns: median/mean/min/max per object, allocations (must be 0), and
/// TSC-equivalent cycles (<see cref="CyclesColumn"/>).
/// </summary>
public static class BenchConfig
{
    /// <summary>Builds the config: <paramref name="mode"/> is "quick" (smoke test), "short" (default) or "long".</summary>
    public static IConfig Create(string mode)
    {
        (int warmup, int iterations, int ms) = mode switch
        {
            "quick" => (2, 3, 100),
            "long" => (6, 15, 500),
            _ => (3, 5, 250),
        };
        Job job = Job.Default
            .WithId(mode + "-inproc")
            .WithLaunchCount(1)
            .WithWarmupCount(warmup)
            .WithIterationCount(iterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(ms))
            .WithToolchain(InProcessEmitToolchain.Instance);

        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Descriptor)
            .AddColumnProvider(DefaultColumnProviders.Job)
            .AddColumn(StatisticColumn.Median, StatisticColumn.Mean, StatisticColumn.StdDev, StatisticColumn.Min, StatisticColumn.Max)
            .AddColumn(new CyclesColumn())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
            .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
            .WithOptions(ConfigOptions.DisableLogFile);
    }
}
