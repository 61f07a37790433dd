using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hyperlane.BenchChart;

/// <summary>One drawn row: a (case, metric) row of the report's table.</summary>
internal sealed class ChartRow
{
    public required string Case { get; init; }
    public required string Metric { get; init; }
    /// <summary>The metric's label from the results (may be long).</summary>
    public required string Label { get; init; }
    public string? Unit { get; init; }
    /// <summary>"lower" is better (cycles, ms): the bar is DPDK / Hyperlane so that right of 1.0 still means Hyperlane is better.</summary>
    public bool Inverted { get; init; }
    /// <summary>The table's ratio, Hyperlane median / DPDK median; null when there is none.</summary>
    public double? TableRatio { get; init; }
    /// <summary>What the bar shows: <see cref="TableRatio"/>, or its inverse when <see cref="Inverted"/>.</summary>
    public double? Ratio => TableRatio is { } r && r > 0 ? (Inverted ? 1.0 / r : r) : null;
    /// <summary>Min and max over the per-run ratios of the interleaved pairs (same orientation as <see cref="Ratio"/>); null with fewer than 2 pairs.</summary>
    public double? WhiskerLow { get; init; }
    public double? WhiskerHigh { get; init; }
    public int Pairs { get; init; }
    /// <summary>Why there is no ratio (drawn in grey instead of a bar).</summary>
    public string? NoRatioReason { get; init; }
    /// <summary>Hyperlane's own figure, for rows without a ratio ("Hyperlane: median 4.03 ms over 3 runs").</summary>
    public string? HyperlaneFigure { get; init; }
}

/// <summary>What the chart shows, read from a bench/run.sh results file (schema: bench/lib/benchlib.py, cmd_report).</summary>
internal sealed class ChartData
{
    public string DpdkVersion { get; init; } = "";
    public string Started { get; init; } = "";
    public string MemoryMode { get; init; } = "";
    public string Cores { get; init; } = "";
    public string RunsLine { get; init; } = "";
    public string HostLine { get; init; } = "";
    public bool Quick { get; init; }
    /// <summary>benchlib's "Memory caveat" (DPDK on 4 KiB pages, Hyperlane on THP), shortened; null when the report has none.</summary>
    public string? MemoryCaveat { get; init; }
    public string Source { get; init; } = "";
    public List<ChartRow> Rows { get; } = [];
    /// <summary>Labels of the cross-check rows left out of the chart.</summary>
    public List<string> OmittedCrossChecks { get; } = [];

    public static ChartData Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var full = Path.GetFullPath(path);
        var name = Path.GetFileName(full);
        var dir = Path.GetDirectoryName(full) ?? "";
        var source = Path.GetFileName(dir) == "results" && Path.GetFileName(Path.GetDirectoryName(dir)) == "bench"
            ? "bench/results/" + name
            : name;
        return FromJson(doc.RootElement, source);
    }

    public static ChartData FromJson(JsonElement root, string source)
    {
        var meta = Obj(root, "meta");
        var runs = Int(meta, "runs");
        var duration = Int(meta, "duration");
        var quick = meta is { } m && m.TryGetProperty("quick", out var q) && q.ValueKind == JsonValueKind.True;
        var data = new ChartData
        {
            DpdkVersion = Str(meta, "dpdkVersion") ?? "",
            Started = FormatStamp(Str(meta, "startedUtc")),
            MemoryMode = Str(meta, "memoryMode") ?? "memory mode not recorded",
            Cores = CoresLine(Obj(meta, "conditions")),
            RunsLine = string.Join("; ", new[]
            {
                runs is { } n ? $"{n} run{(n == 1 ? "" : "s")} per side per case, interleaved (Hyperlane, DPDK, Hyperlane, ...)" : null,
                duration is { } d ? $"{d} s per forwarding run" : null,
            }.Where(s => s is not null)),
            HostLine = string.Join("; ", new[]
            {
                Str(meta, "host") is { } h ? "host: " + h : null,
                Str(meta, "git") is { } g ? "git " + g : null,
                Str(meta, "dotnet") is { } dn ? ".NET " + dn : null,
            }.Where(s => s is not null)),
            Quick = quick,
            MemoryCaveat = root.TryGetProperty("markdown", out var md) && md.ValueKind == JsonValueKind.String
                           && Regex.Match(md.GetString() ?? "", @"Memory caveat \(([^)]*)\)") is { Success: true } mc
                ? $"memory caveat ({mc.Groups[1].Value}): not like for like: DPDK --no-huge on 4 KiB pages, Hyperlane may get THP, which favours it (use --hugepages N)"
                : null,
            Source = source,
        };

        var results = root.TryGetProperty("results", out var rs) && rs.ValueKind == JsonValueKind.Array
            ? rs.EnumerateArray().ToList()
            : [];
        if (!root.TryGetProperty("table", out var table) || table.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("no \"table\" array: not a bench/run.sh results file");
        }
        foreach (var row in table.EnumerateArray())
        {
            var caseName = Str(row, "case") ?? "?";
            var metric = Str(row, "metric") ?? "?";
            var label = Str(row, "label") ?? metric;
            if (label.StartsWith("cross-check", StringComparison.OrdinalIgnoreCase))
            {
                data.OmittedCrossChecks.Add($"{caseName}/{metric}");
                continue;
            }
            var unit = Str(row, "unit");
            var inverted = Str(row, "better") == "lower";
            var ratio = Num(row, "ratio");
            if (ratio is { } r && !(r > 0 && double.IsFinite(r)))
            {
                ratio = null;
            }

            var pairs = PerRunRatios(results, caseName, metric);
            if (inverted)
            {
                pairs = pairs.Select(x => 1.0 / x).ToList();
            }

            string? reason = null;
            string? hlFigure = null;
            if (ratio is null)
            {
                var dpdkUnavailable = Str(Obj(row, "dpdk"), "unavailable");
                reason = dpdkUnavailable is not null
                    ? "DPDK cannot run here: " + dpdkUnavailable
                    : Str(row, "ratioText") ?? "no ratio";
                var hl = Obj(row, "hyperlane");
                if (Num(hl, "median") is { } med)
                {
                    var count = hl is { } hlSide && hlSide.TryGetProperty("values", out var vals) && vals.ValueKind == JsonValueKind.Array
                        ? vals.GetArrayLength()
                        : 0;
                    var spread = count > 1
                        ? $", {FormatValue(Num(hl, "min") ?? med, unit)} - {FormatValue(Num(hl, "max") ?? med, unit)} over {count} runs"
                        : count == 1 ? " (1 run)" : "";
                    hlFigure = $"Hyperlane: {FormatValue(med, unit)}{(unit is null ? "" : " " + unit)} median{spread}";
                }
            }

            data.Rows.Add(new ChartRow
            {
                Case = caseName,
                Metric = metric,
                Label = label,
                Unit = unit,
                Inverted = inverted,
                TableRatio = ratio,
                WhiskerLow = ratio is not null && pairs.Count >= 2 ? pairs.Min() : null,
                WhiskerHigh = ratio is not null && pairs.Count >= 2 ? pairs.Max() : null,
                Pairs = pairs.Count,
                NoRatioReason = reason,
                HyperlaneFigure = hlFigure,
            });
        }
        return data;
    }

    /// <summary>
    /// Hyperlane run k / DPDK run k for every run number k where both sides have a figure for the
    /// metric. run.sh runs the two sides of a run back to back (HL, DPDK, HL, DPDK, ...), so each
    /// pair saw about the same machine; the spread of the pairs shows how much the ratio moved.
    /// </summary>
    private static List<double> PerRunRatios(List<JsonElement> results, string caseName, string metric)
    {
        Dictionary<int, double> Values(string side)
        {
            var d = new Dictionary<int, double>();
            foreach (var r in results)
            {
                if (Str(r, "case") != caseName || Str(r, "side") != side || Int(r, "run") is not { } run)
                {
                    continue;
                }
                if (!r.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
                {
                    continue;
                }
                if (Num(Obj(Obj(r, "metrics"), metric), "value") is { } v && double.IsFinite(v))
                {
                    d[run] = v;
                }
            }
            return d;
        }
        var hl = Values("hyperlane");
        var dp = Values("dpdk");
        return hl.Keys.Order()
            .Where(k => dp.TryGetValue(k, out var d) && d > 0 && hl[k] > 0)
            .Select(k => hl[k] / dp[k])
            .ToList();
    }

    /// <summary>
    /// The cores the cases used, from their conditions strings: "main M, forwarding F" (cores X-Y
    /// (main M, forwarding F), or "port main M, forwarding F"; the DPDK generator's "main lcore"
    /// is not the port under test) or "N thread (lcore L)"; grouped when cases differ.
    /// </summary>
    internal static string CoresLine(JsonElement? conditions)
    {
        if (conditions is not { ValueKind: JsonValueKind.Object } c)
        {
            return "cores: not recorded";
        }
        var groups = new List<(string What, List<string> Cases)>();
        foreach (var p in c.EnumerateObject())
        {
            var text = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : "";
            string what;
            var mf = Regex.Match(text, @"(?<!lcore )\bmain (\d+), forwarding (\d+)");
            var th = Regex.Match(text, @"(\d+) threads? \(lcore (\d+)\)");
            if (mf.Success)
            {
                what = $"lcore {mf.Groups[1].Value} main + lcore {mf.Groups[2].Value} forwarding";
            }
            else if (th.Success)
            {
                what = $"{th.Groups[1].Value} thread on lcore {th.Groups[2].Value}";
            }
            else
            {
                what = "see the table";
            }
            var g = groups.FindIndex(x => x.What == what);
            if (g < 0)
            {
                groups.Add((what, [p.Name]));
            }
            else
            {
                groups[g].Cases.Add(p.Name);
            }
        }
        if (groups.Count == 0)
        {
            return "cores: not recorded";
        }
        if (groups.Count == 1)
        {
            return "cores: " + groups[0].What + " (every case)";
        }
        // the most common first, without its case list ("everything else")
        groups.Sort((a, b) => b.Cases.Count.CompareTo(a.Cases.Count));
        return "cores: " + groups[0].What + string.Concat(groups.Skip(1).Select(g => $"; {string.Join(", ", g.Cases)}: {g.What}"));
    }

    /// <summary>As benchlib.py's fmt: Mpps with 1 decimal from 10 up, else 3; anything else 2.</summary>
    internal static string FormatValue(double v, string? unit) =>
        v.ToString(unit == "Mpps" ? (Math.Abs(v) >= 10 ? "0.0" : "0.000") : "0.00", CultureInfo.InvariantCulture);

    private static string FormatStamp(string? stamp)
    {
        if (stamp is not null && DateTime.TryParseExact(stamp, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
        {
            return t.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        }
        return stamp ?? "date not recorded";
    }

    private static JsonElement? Obj(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Str(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Num(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static int? Int(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;
}
