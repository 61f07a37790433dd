using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Mathematics;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Hyperlane.Benchmarks;

// Hyperlane micro benchmarks. Own options (removed before BenchmarkDotNet sees the rest):
//   --summary-json FILE   also write per-object ns and cycles of every benchmark as JSON (bench/run.sh reads it)
//   --quick               2 warmup + 3 iterations of 100 ms (smoke test)
//   --long                6 warmup + 15 iterations of 500 ms
// Everything else goes to BenchmarkDotNet (e.g. --filter '*Ring*', --list flat, --artifacts DIR).
// Without --filter every benchmark runs.
string? summaryJson = null;
string mode = "short";
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--summary-json" when i + 1 < args.Length:
            summaryJson = args[++i];
            break;
        case "--long":
            mode = "long";
            break;
        case "--quick":
            mode = "quick";
            break;
        default:
            rest.Add(args[i]);
            break;
    }
}

if (!rest.Contains("--filter") && !rest.Contains("-f") && !rest.Contains("--list"))
{
    rest.Add("--filter");
    rest.Add("*");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# TSC {TscClock.MegaHertz:F3} MHz from {TscClock.Source}; cycles = ns x {TscClock.GigaHertz:F4}"));

var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchSizes).Assembly)
    .Run([.. rest], BenchConfig.Create(mode))
    .ToList();

var rows = new List<(string Name, string Description, Statistics Stats, long? Allocated)>();
foreach (Summary summary in summaries)
{
    foreach (BenchmarkReport report in summary.Reports)
    {
        if (report.ResultStatistics is { } stats)
        {
            var bc = report.BenchmarkCase;
            long? alloc = report.GcStats.GetBytesAllocatedPerOperation(bc);
            rows.Add((bc.Descriptor.WorkloadMethod.Name, bc.Descriptor.WorkloadMethodDisplayInfo, stats, alloc));
        }
    }
}

Console.WriteLine();
Console.WriteLine("# Per object (median of the measured iterations):");
foreach (var r in rows)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#   {r.Name,-24} {r.Stats.Median,8:F3} ns  {r.Stats.Median * TscClock.GigaHertz,8:F2} cycles  (min {r.Stats.Min:F3} max {r.Stats.Max:F3} ns, alloc {r.Allocated?.ToString(CultureInfo.InvariantCulture) ?? "?"} B/op)"));
}

foreach (var note in BenchNotes.Snapshot())
{
    Console.WriteLine($"#   note {note.Key}: {note.Value}");
}

if (summaryJson is not null)
{
    using var stream = File.Create(summaryJson);
    using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
    w.WriteStartObject();
    w.WriteNumber("tscMHz", TscClock.MegaHertz);
    w.WriteString("tscSource", TscClock.Source);
    w.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
    w.WriteNumber("objectsPerInvoke", BenchSizes.ObjectsPerInvoke);
    w.WriteString("job", mode);
    w.WriteStartArray("benchmarks");
    foreach (var r in rows)
    {
        w.WriteStartObject();
        w.WriteString("name", r.Name);
        w.WriteString("description", r.Description);
        w.WriteNumber("nsPerObject", r.Stats.Median);
        w.WriteNumber("meanNs", r.Stats.Mean);
        w.WriteNumber("minNs", r.Stats.Min);
        w.WriteNumber("maxNs", r.Stats.Max);
        w.WriteNumber("stdDevNs", r.Stats.StandardDeviation);
        w.WriteNumber("iterations", r.Stats.N);
        w.WriteNumber("cyclesPerObject", r.Stats.Median * TscClock.GigaHertz);
        if (r.Allocated is { } a)
        {
            w.WriteNumber("allocatedBytesPerObject", a);
        }

        w.WriteEndObject();
    }

    w.WriteEndArray();
    w.WriteStartObject("notes");
    foreach (var note in BenchNotes.Snapshot())
    {
        w.WriteString(note.Key, note.Value);
    }

    w.WriteEndObject();
    w.WriteEndObject();
}

return rows.Count > 0 ? 0 : 1;
