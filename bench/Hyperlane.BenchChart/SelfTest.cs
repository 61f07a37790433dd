using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hyperlane.BenchChart;

/// <summary>
/// --self-test: draws built-in samples shaped like benchlib.py's results file, writes the PNGs,
/// reads them back with an independent decoder and checks what a reader relies on.
/// </summary>
internal static class SelfTest
{
    private static int failures;

    public static int Run(string path)
    {
        failures = 0;
        Check(Crc32.Compute("123456789"u8) == 0xCBF43926u, "CRC-32 of \"123456789\" is CBF43926");

        // log scale: ratios 0.4 .. 12 (30x)
        var sample = Sample(linear: false);
        var data = ChartData.FromJson(sample.RootElement, "self-test sample (log)");
        var chart = ChartRenderer.Render(data);
        var png = PngWriter.Encode(chart.Canvas);
        File.WriteAllBytes(path, png);
        var image = VerifyPng(File.ReadAllBytes(path), chart);
        VerifyLogSample(data, chart, image);
        VerifyTampered(png);

        // linear scale: ratios 0.95 .. 3 (3.2x)
        var linearPath = Path.ChangeExtension(path, ".linear.png");
        var lin = Sample(linear: true);
        var linData = ChartData.FromJson(lin.RootElement, "self-test sample (linear)");
        var linChart = ChartRenderer.Render(linData);
        File.WriteAllBytes(linearPath, PngWriter.Encode(linChart.Canvas));
        var linImage = VerifyPng(File.ReadAllBytes(linearPath), linChart);
        VerifyLinearSample(linData, linChart, linImage);

        Console.WriteLine(failures == 0
            ? $"self-test: ok ({path}, {linearPath})"
            : $"self-test: {failures} check(s) failed ({path}, {linearPath})");
        return failures == 0 ? 0 : 1;
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            failures++;
            Console.Error.WriteLine("self-test FAILED: " + what);
        }
    }

    private static PngImage VerifyPng(byte[] file, RenderedChart chart)
    {
        // Decode checks the signature, every chunk's CRC, the IHDR fields (8-bit RGB, no interlace),
        // the inflated size and filter type 0 on every row; it throws when one does not hold.
        PngImage image;
        try
        {
            image = PngImage.Decode(file);
        }
        catch (InvalidDataException e)
        {
            Check(false, "decode: " + e.Message);
            throw;
        }
        Check(image.Chunks.SequenceEqual(["IHDR", "IDAT", "IEND"]), "chunks are IHDR, IDAT, IEND: " + string.Join(",", image.Chunks));
        Check(image.Width == chart.Canvas.Width && image.Height == chart.Canvas.Height,
            $"IHDR {image.Width}x{image.Height} = canvas {chart.Canvas.Width}x{chart.Canvas.Height}");
        Check(image.Width == 1200, "default width 1200 px");
        Check(image.Rgb.AsSpan().SequenceEqual(chart.Canvas.Pixels), "decoded pixels equal the canvas");
        foreach (var b in chart.Bars)
        {
            // probe inside the bar, off the whisker (which runs along the bar's middle) and off the 1.0 line
            var x = (b.X0 + b.X1) / 2;
            if (Math.Abs(x - chart.OneX) < 4)
            {
                x = b.X1 - 2;
            }
            var got = image.Pixel(x, b.Y0 + 3);
            Check(got == b.Colour, $"row {b.Row}: pixel ({x},{b.Y0 + 3}) is {got}, bar colour {b.Colour}");
        }
        return image;
    }

    private static BarRect Bar(RenderedChart chart, ChartData data, string caseName, string metric)
    {
        var row = data.Rows.FindIndex(r => r.Case == caseName && r.Metric == metric);
        return chart.Bars.Single(b => b.Row == row);
    }

    private static void VerifyLogSample(ChartData data, RenderedChart chart, PngImage image)
    {
        Check(chart.LogScale, "ratios spanning 30x are drawn on a log scale");
        Check(data.Rows.Count == 8, $"8 rows drawn (the cross-check row left out), got {data.Rows.Count}");
        Check(data.OmittedCrossChecks.SequenceEqual(["tap_tx/port_tx_mpps"]), "the cross-check row is listed as left out");
        Check(chart.Bars.Count == 6, $"6 bars (2 rows without a ratio), got {chart.Bars.Count}");
        Check(data.Rows.Select(r => r.Case).Distinct().SequenceEqual(
            ["null_io", "micro", "tap_tx", "tap_rx", "af_packet_rx", "vhost_loopback", "failsafe_failover"]), "rows in suite order");

        var expect = new (string Case, string Metric, double Ratio, Rgb Colour)[]
        {
            ("null_io", "rx_mpps", 2.15, ChartRenderer.Green),
            ("micro", "ring_spsc_bulk32", 0.95, ChartRenderer.Orange),   // cycles: 1 / (2.0 / 1.9)
            ("tap_tx", "kernel_rx_mpps", 1.0, ChartRenderer.Green),
            ("tap_rx", "rx_mpps", 12.0, ChartRenderer.Green),
            ("af_packet_rx", "rx_mpps", 0.4, ChartRenderer.Red),
            ("failsafe_failover", "failover_gap_ms", 3.0, ChartRenderer.Green), // ms: 12.09 / 4.03
        };
        foreach (var (c, m, ratio, colour) in expect)
        {
            var row = data.Rows.Single(r => r.Case == c && r.Metric == m);
            Check(Math.Abs(row.Ratio!.Value - ratio) < 1e-9, $"{c}/{m}: drawn ratio {row.Ratio} = {ratio}");
            var bar = Bar(chart, data, c, m);
            Check(bar.Colour == colour, $"{c}/{m}: colour {bar.Colour} = {colour}");
            var mid = image.Pixel((bar.X0 + bar.X1) / 2, bar.Y0 + 3);
            Check(mid == colour, $"{c}/{m}: pixel in the bar {mid} = {colour}");
            // log scale: bars start at 1.0 and run right (>= 1) or left (< 1)
            if (ratio >= 1.0)
            {
                Check(bar.X0 == chart.OneX && bar.X1 > bar.X0, $"{c}/{m}: bar runs right from the 1.0 line");
            }
            else
            {
                Check(bar.X1 == chart.OneX && bar.X0 < bar.X1, $"{c}/{m}: bar runs left from the 1.0 line");
            }
        }
        var gap = data.Rows.Single(r => r.Metric == "failover_gap_ms");
        Check(gap.Inverted && Math.Abs(gap.TableRatio!.Value - 4.03 / 12.09) < 1e-9, "latency row: table ratio HL/DPDK kept, drawn inverted");
        var null_ = Bar(chart, data, "null_io", "rx_mpps");
        var tapRx = Bar(chart, data, "tap_rx", "rx_mpps");
        var af = Bar(chart, data, "af_packet_rx", "rx_mpps");
        Check(tapRx.X1 - tapRx.X0 > null_.X1 - null_.X0, "12.0 is longer than 2.15");
        // log scale: 0.4 lies as far left of 1.0 as 2.5 lies right of it
        var pxPerLn = (null_.X1 - chart.OneX) / Math.Log(2.15);
        Check(Math.Abs((chart.OneX - af.X0) - pxPerLn * Math.Log(2.5)) <= 2, "log scale: 0.4 is as far left of 1.0 as 2.5 is right");
        var tap = Bar(chart, data, "tap_tx", "kernel_rx_mpps");
        Check(tap.X1 - tap.X0 is >= 4 and <= 6, $"a ratio of 1.00 still shows a sliver ({tap.X1 - tap.X0} px)");

        // whiskers: 3 pairs per case give a range; null_io's per-run ratios are 130/62, 137.6/64, 143/66.5
        var nullRow = data.Rows.Single(r => r.Case == "null_io");
        Check(nullRow.Pairs == 3 && Math.Abs(nullRow.WhiskerLow!.Value - 130.0 / 62) < 1e-9
              && Math.Abs(nullRow.WhiskerHigh!.Value - 2.15037593984962) < 1e-6, "null_io whisker = min/max of the per-run ratios");
        var gapW = data.Rows.Single(r => r.Metric == "failover_gap_ms");
        Check(Math.Abs(gapW.WhiskerLow!.Value - 13.0 / 5.5) < 1e-9 && Math.Abs(gapW.WhiskerHigh!.Value - 12.09 / 4.03) < 1e-9,
            $"latency whisker in DPDK/HL orientation: {gapW.WhiskerLow} .. {gapW.WhiskerHigh}");

        // rows without a ratio: reason, no bar colour anywhere in the plot area of their band
        var vhost = data.Rows.FindIndex(r => r.Case == "vhost_loopback");
        Check(data.Rows[vhost].NoRatioReason!.StartsWith("DPDK cannot run here: ", StringComparison.Ordinal), "unavailable row says DPDK cannot run here");
        Check(data.Rows[vhost].HyperlaneFigure is not null, "unavailable row keeps Hyperlane's figure");
        var ret = data.Rows.FindIndex(r => r.Metric == "return_ms");
        Check(data.Rows[ret].NoRatioReason!.Contains("did not return", StringComparison.Ordinal), "outcome row names the outcome");
        foreach (var row in new[] { vhost, ret })
        {
            var (top, bottom) = chart.RowBands[row];
            var barPixels = 0;
            for (var y = top; y < bottom; y++)
            {
                for (var x = chart.PlotLeft; x < chart.PlotRight; x++)
                {
                    var p = image.Pixel(x, y);
                    if (p == ChartRenderer.Green || p == ChartRenderer.Orange || p == ChartRenderer.Red)
                    {
                        barPixels++;
                    }
                }
            }
            Check(barPixels == 0, $"row {row} (no ratio) has no bar pixels, found {barPixels}");
        }
        // the 1.0 line is drawn through the rows
        var (t0, _) = chart.RowBands[0];
        Check(image.Pixel(chart.OneX, t0 + 1) == ChartRenderer.OneLine, "the 1.0 line crosses the first row");
    }

    private static void VerifyLinearSample(ChartData data, RenderedChart chart, PngImage image)
    {
        Check(!chart.LogScale, "ratios spanning 3x are drawn on a linear scale");
        var x0 = chart.Bars.Select(b => b.X0).Distinct().ToList();
        Check(x0.Count == 1 && x0[0] < chart.OneX, "linear scale: every bar starts at 0, left of the 1.0 line");
        var micro = Bar(chart, data, "micro", "ring_spsc_bulk32");
        Check(micro.X1 < chart.OneX, "0.95 ends left of the 1.0 line");
        Check(image.Pixel(micro.X1 - 2, micro.Y0 + 3) == ChartRenderer.Orange, "0.95 is orange");
        var nul = Bar(chart, data, "null_io", "rx_mpps");
        var f = (double)(nul.X1 - nul.X0) / (chart.OneX - nul.X0);
        Check(Math.Abs(f - 2.15) < 0.02, $"linear scale: the 2.15 bar is 2.15x the distance 0 -> 1.0 ({f:0.000})");
    }

    private static void VerifyTampered(byte[] png)
    {
        var bad = (byte[])png.Clone();
        bad[^5] ^= 0x01; // the IEND CRC's last byte
        try
        {
            PngImage.Decode(bad);
            Check(false, "a PNG with a wrong CRC is rejected");
        }
        catch (InvalidDataException)
        {
        }
    }

    /// <summary>
    /// A results file the way benchlib.py's report writes it (meta, table, results), for cases
    /// with drawn ratios 2.15, 0.95 (a cost), 1.0, 12.0, 0.4, one DPDK side that cannot run and a
    /// latency case (one metric with a ratio, one with an outcome instead of a DPDK figure).
    /// </summary>
    internal static JsonDocument Sample(bool linear)
    {
        var table = new JsonArray();
        var results = new JsonArray();
        var conditions = new JsonObject();

        void Case(string name, string metric, string unit, string better, string label, double[] hl, double[]? dpdk,
                  string? unavailable = null, string? outcome = null, string cond = "cores 0-1 (main 0, forwarding 1); 64 B packets; burst 32")
        {
            conditions[name] = cond;
            for (var run = 1; run <= hl.Length; run++)
            {
                AddResult(name, "hyperlane", run, metric, unit, better, label, hl[run - 1], null, null);
                AddResult(name, "dpdk", run, metric, unit, better, label, dpdk?[run - 1], unavailable, outcome);
            }
            var hm = Median(hl);
            double? dm = dpdk is null ? null : Median(dpdk);
            var ratio = dm is { } d && d > 0 ? hm / d : (double?)null;
            var text = unavailable is not null ? "DPDK cannot run: " + unavailable
                : outcome is not null ? $"no ratio: DPDK {outcome} in {hl.Length}/{hl.Length} run(s) (no frame on the re-created veth B within 3 s)"
                : ratio!.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
            table.Add(new JsonObject
            {
                ["case"] = name, ["metric"] = metric, ["unit"] = unit, ["better"] = better, ["label"] = label,
                ["conditions"] = cond,
                ["hyperlane"] = Side(hl, null, null),
                ["dpdk"] = Side(dpdk ?? [], unavailable, outcome is null ? null : new JsonArray(new JsonObject { ["outcome"] = outcome, ["runs"] = hl.Length })),
                ["ratio"] = ratio, ["ratioText"] = text,
            });
        }

        void AddResult(string name, string side, int run, string metric, string unit, string better, string label,
                       double? value, string? unavailable, string? outcome)
        {
            var res = new JsonObject { ["case"] = name, ["side"] = side, ["run"] = run, ["notes"] = new JsonArray() };
            if (unavailable is not null)
            {
                res["ok"] = false;
                res["metrics"] = new JsonObject();
                res["unavailable"] = unavailable;
            }
            else
            {
                res["ok"] = true;
                var m = new JsonObject { ["value"] = value, ["unit"] = unit, ["better"] = better, ["label"] = label };
                if (value is null && outcome is not null)
                {
                    m["outcome"] = outcome;
                }
                res["metrics"] = new JsonObject { [metric] = m };
            }
            results.Add(res);
        }

        static JsonObject Side(double[] values, string? unavailable, JsonArray? outcomes) => new()
        {
            ["values"] = new JsonArray(values.Select(v => (JsonNode?)v).ToArray()),
            ["min"] = values.Length > 0 ? values.Min() : null,
            ["median"] = values.Length > 0 ? Median(values) : null,
            ["max"] = values.Length > 0 ? values.Max() : null,
            ["runs"] = 3,
            ["unavailable"] = unavailable,
            ["outcomes"] = outcomes ?? [],
        };

        Case("null_io", "rx_mpps", "Mpps", "higher", "Rx Mpps, sum of both ports", [130.0, 137.6, 143.0], [62.0, 64.0, 66.5]);
        Case("micro", "ring_spsc_bulk32", "cycles/obj", "lower", "Ring SP/SC bulk 32 enq+deq", [2.0, 2.0, 2.2], [1.9, 1.9, 2.0],
            cond: "1 thread (lcore 0); burst 32; ring 4096");
        Case("tap_tx", "kernel_rx_mpps", "Mpps", "higher", "kernel rx counter of the TAP netdev, delta / time", [0.70, 0.72, 0.75], [0.71, 0.72, 0.73]);
        // the cross-check row of tap_tx (left out of the chart); same runs, second metric
        table.Add(new JsonObject
        {
            ["case"] = "tap_tx", ["metric"] = "port_tx_mpps", ["unit"] = "Mpps", ["better"] = "higher",
            ["label"] = "cross-check: the port's Tx-pps (testpmd stats, median, first skipped)",
            ["hyperlane"] = Side([0.7, 0.72, 0.75], null, null), ["dpdk"] = Side([0.71, 0.72, 0.73], null, null),
            ["ratio"] = 1.0, ["ratioText"] = "1.00",
        });
        if (!linear)
        {
            Case("tap_rx", "rx_mpps", "Mpps", "higher", "receiving port's Rx-pps (median of samples once traffic flows, first skipped)",
                [1.1, 1.2, 1.3], [0.1, 0.1, 0.11]);
            Case("af_packet_rx", "rx_mpps", "Mpps", "higher", "receiving port's Rx-pps (median of samples once traffic flows, first skipped)",
                [0.18, 0.2, 0.21], [0.5, 0.5, 0.52], cond: "port main 0, forwarding 1; generator: DPDK testpmd (main lcore 1, forwarding 0)");
            Case("vhost_loopback", "rx_mpps", "Mpps", "higher", "Rx Mpps of the vhost-user port",
                [3.1, 3.2, 3.3], null, unavailable: "this dpdk-testpmd has no net_vhost / net_virtio_user PMD");
        }
        Case("failsafe_failover", "failover_gap_ms", "ms", "lower",
            "failover gap: last frame on veth B -> first frame on the TAP, after veth A is deleted", [4.0, 4.03, 5.5], [11.0, 12.09, 13.0]);
        // second metric of the same case: DPDK never returned (an outcome, no figure)
        for (var run = 1; run <= 3; run++)
        {
            var hlRes = results.OfType<JsonObject>().First(r => (string?)r["case"] == "failsafe_failover" && (string?)r["side"] == "hyperlane" && (int?)r["run"] == run);
            ((JsonObject)hlRes["metrics"]!)["return_ms"] = new JsonObject { ["value"] = new[] { 4.5, 4.7, 22.5 }[run - 1], ["unit"] = "ms", ["better"] = "lower" };
            var dpRes = results.OfType<JsonObject>().First(r => (string?)r["case"] == "failsafe_failover" && (string?)r["side"] == "dpdk" && (int?)r["run"] == run);
            ((JsonObject)dpRes["metrics"]!)["return_ms"] = new JsonObject { ["value"] = null, ["outcome"] = "did not return", ["unit"] = "ms", ["better"] = "lower" };
        }
        table.Add(new JsonObject
        {
            ["case"] = "failsafe_failover", ["metric"] = "return_ms", ["unit"] = "ms", ["better"] = "lower",
            ["label"] = "return time: veth pair re-created and up -> first frame on veth B",
            ["hyperlane"] = Side([4.5, 4.7, 22.5], null, null),
            ["dpdk"] = Side([], null, new JsonArray(new JsonObject { ["outcome"] = "did not return", ["runs"] = 3 })),
            ["ratio"] = null,
            ["ratioText"] = "no ratio: DPDK did not return in 3/3 run(s) (no frame on the re-created veth B within 3 s)",
        });

        var cases = new JsonArray(table.OfType<JsonObject>().Select(r => (string)r["case"]!).Distinct().Select(c => (JsonNode?)c).ToArray());
        var root = new JsonObject
        {
            ["meta"] = new JsonObject
            {
                ["startedUtc"] = "20261121T210143Z", ["cases"] = cases, ["conditions"] = conditions, ["runs"] = 3, ["duration"] = 8,
                ["quick"] = false, ["memoryMode"] = "hugepages: 256 x 2 MiB reserved (256 free); DPDK --in-memory",
                ["git"] = "selftest", ["dpdkVersion"] = "22.11.11", ["dotnet"] = "10.0",
                ["host"] = "sample host, 2 CPUs, AMD EPYC, TSC 2596 MHz",
            },
            ["table"] = table,
            ["results"] = results,
        };
        return JsonDocument.Parse(root.ToJsonString());
    }

    private static double Median(double[] xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
