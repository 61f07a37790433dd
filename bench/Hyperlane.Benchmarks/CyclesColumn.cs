using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Hyperlane.Benchmarks;

/// <summary>
/// TSC-equivalent cycles per operation: the median time per operation (per object, since every
/// benchmark sets OperationsPerInvoke) times the TSC frequency from <see cref="TscClock"/>.
/// </summary>
public sealed class CyclesColumn : IColumn
{
    public string Id => nameof(CyclesColumn);

    public string ColumnName => "Cycles/op";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => 100;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => string.Create(
        CultureInfo.InvariantCulture,
        $"TSC-equivalent cycles per operation: median ns x {TscClock.GigaHertz:F4} GHz ({TscClock.Source})");

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        return stats is null
            ? "NA"
            : (stats.Median * TscClock.GigaHertz).ToString("F2", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
