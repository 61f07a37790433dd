using System.Globalization;

namespace Hyperlane.BenchChart;

/// <summary>Where a bar was drawn (for the self-test).</summary>
internal sealed record BarRect(int Row, int X0, int Y0, int X1, int Y1, Rgb Colour);

/// <summary>A drawn chart and what the self-test needs to check it.</summary>
internal sealed class RenderedChart
{
    public required Canvas Canvas { get; init; }
    public required List<BarRect> Bars { get; init; }
    /// <summary>Vertical band (top, bottom exclusive) of every row, in row order.</summary>
    public required List<(int Top, int Bottom)> RowBands { get; init; }
    public required bool LogScale { get; init; }
    public required int OneX { get; init; }
    public required int PlotLeft { get; init; }
    public required int PlotRight { get; init; }
}

/// <summary>
/// Lays out and draws the chart: header (title, conditions), one row per table row in suite order
/// (label | bar with whisker and value, or the reason in grey), the x axis with the 1.0 line, and
/// a legend. Ratios are oriented so that right of 1.0 is always "Hyperlane better".
/// </summary>
internal static class ChartRenderer
{
    public static readonly Rgb Background = Rgb.Hex(0xFFFFFF);
    public static readonly Rgb Shade = Rgb.Hex(0xF3F5F8);
    public static readonly Rgb Ink = Rgb.Hex(0x1F2328);
    public static readonly Rgb Muted = Rgb.Hex(0x5F6670);
    public static readonly Rgb Faint = Rgb.Hex(0x8A9099);
    public static readonly Rgb Grid = Rgb.Hex(0xD8DCE2);
    public static readonly Rgb Separator = Rgb.Hex(0xC4C9D0);
    public static readonly Rgb Green = Rgb.Hex(0x2E9A55);
    public static readonly Rgb Orange = Rgb.Hex(0xEE9A1E);
    public static readonly Rgb Red = Rgb.Hex(0xD2412F);
    public static readonly Rgb Whisker = Rgb.Hex(0x2B2F36);
    public static readonly Rgb OneLine = Rgb.Hex(0x1F2328);
    public static readonly Rgb Warning = Rgb.Hex(0xB4430E);

    /// <summary>Ratios under this are drawn red, from here to 1.0 orange (this machine's noise is ~30 %, docs/performance.md).</summary>
    public const double RedBelow = 0.7;
    /// <summary>Log scale when the drawn values (with whiskers and 1.0) span more than this factor.</summary>
    public const double LogSpan = 10.0;

    private const int S = 2;                 // body text scale
    private const int TitleScale = 3;
    private const int Margin = 24;
    private const int LabelWidth = 432;
    private const int Gap = 16;              // label column -> plot
    private const int BarHeight = 22;
    private const int RowPad = 7;
    private static readonly int Line = Canvas.LineHeight(S);      // 22
    private static readonly int Cap = BitmapFont.CapHeight * S;   // 14
    private static readonly int CharW = BitmapFont.Advance * S;   // 12

    public static Rgb BarColour(double ratio) => ratio >= 1.0 ? Green : ratio >= RedBelow ? Orange : Red;

    public static RenderedChart Render(ChartData data, int width = 1200)
    {
        if (width < 800)
        {
            throw new ArgumentOutOfRangeException(nameof(width), "at least 800 px");
        }
        var plotLeft = Margin + LabelWidth + Gap;
        var plotRight = width - Margin;
        var textCols = (width - 2 * Margin) / CharW;

        // ---- header ----------------------------------------------------------------------------
        var title = $"Hyperlane vs DPDK {data.DpdkVersion}".TrimEnd() + $" - {data.Started}";
        var titleScale = Canvas.TextWidth(title, TitleScale) <= width - 2 * Margin ? TitleScale : S;
        var header = new List<(string Text, Rgb Colour)>();
        if (data.Quick)
        {
            header.Add(("QUICK SMOKE RUN (--quick): short runs, one per side; these figures are not for comparison", Warning));
        }
        header.Add(("median ratio per case; right of the 1.0 line = Hyperlane better", Ink));
        header.AddRange(Wrap("memory: " + data.MemoryMode, textCols).Select(l => (l, Muted)));
        if (data.MemoryCaveat is { } caveat)
        {
            header.AddRange(Wrap(caveat, textCols).Select(l => (l, Warning)));
        }
        foreach (var s in new[] { data.Cores, data.RunsLine, data.HostLine })
        {
            if (!string.IsNullOrWhiteSpace(s))
            {
                header.AddRange(Wrap(s, textCols).Select(l => (l, Muted)));
            }
        }

        // ---- rows ------------------------------------------------------------------------------
        var rows = data.Rows;
        var plotCols = (plotRight - plotLeft - 8) / CharW;
        var rowText = new List<List<(string Text, Rgb Colour)>>();
        var rowHeights = new List<int>();
        foreach (var r in rows)
        {
            var lines = new List<(string, Rgb)>();
            if (r.Ratio is null)
            {
                lines.AddRange(Wrap(r.NoRatioReason ?? "no ratio", plotCols).Select(l => (l, Muted)));
                if (r.HyperlaneFigure is { } f)
                {
                    lines.AddRange(Wrap(f, plotCols).Select(l => (l, Ink)));
                }
            }
            rowText.Add(lines);
            rowHeights.Add(Math.Max(2, lines.Count) * Line + 2 * RowPad);
        }

        // ---- axis ------------------------------------------------------------------------------
        var ratios = rows.Where(r => r.Ratio is not null).ToList();
        var all = ratios.SelectMany(r => new[] { r.Ratio!.Value, r.WhiskerLow ?? r.Ratio.Value, r.WhiskerHigh ?? r.Ratio.Value })
            .Append(1.0).ToList();
        var span = all.Max() / all.Min();
        var log = span > LogSpan;
        var axis = FitAxis(ratios, log, all.Min(), all.Max(), plotLeft + 6, plotRight - 6, plotLeft, width - Margin);

        // ---- legend ----------------------------------------------------------------------------
        var legend = new List<(string Text, Rgb Colour)>();
        var scaleNote = log
            ? string.Create(CultureInfo.InvariantCulture,
                $"Log scale (bars and whiskers span {span:0.#}x > {LogSpan:0}x): bars start at 1.0; 0.5 and 2 are equally long.")
            : "Linear scale from 0 (bars and whiskers span < 10x): bar length is proportional to the ratio.";
        legend.AddRange(Wrap(scaleNote, textCols).Select(l => (l, Muted)));
        legend.AddRange(Wrap(ratios.Any(r => r.WhiskerLow is not null)
            ? "Bar: median Hyperlane / median DPDK (the table's ratio). Whisker: lowest and highest ratio of the interleaved pairs (run k Hyperlane / run k DPDK, run back to back)."
            : "Bar: median Hyperlane / median DPDK (the table's ratio). No whiskers: fewer than 2 runs per side.", textCols - 3).Select(l => (l, Muted)));
        if (ratios.Any(r => r.Inverted))
        {
            legend.AddRange(Wrap("(DPDK/HL): a cost where lower is better (cycles/obj, ms), drawn as DPDK / Hyperlane so that right of 1.0 still means Hyperlane is better; the table prints the inverse (HL/DPDK).", textCols).Select(l => (l, Muted)));
        }
        if (rows.Any(r => r.Ratio is null))
        {
            legend.AddRange(Wrap("Rows without a bar have no ratio: the reason (grey), then Hyperlane's own figure.", textCols).Select(l => (l, Muted)));
        }
        if (data.OmittedCrossChecks.Count > 0)
        {
            legend.AddRange(Wrap($"Not drawn: {data.OmittedCrossChecks.Count} cross-check row(s) ({string.Join(", ", data.OmittedCrossChecks)}); they are in the table.", textCols).Select(l => (l, Muted)));
        }
        legend.AddRange(Wrap("Differences under ~30 % in framework-bound cases are within this machine's noise (docs/performance.md).", textCols).Select(l => (l, Muted)));
        legend.Add(($"source: {data.Source}; drawn by bench/Hyperlane.BenchChart", Faint));

        // ---- vertical layout -------------------------------------------------------------------
        var y = Margin;
        var titleY = y;
        y += Canvas.LineHeight(titleScale) + 6;
        var headerY = y;
        y += header.Count * Line + 14;
        var columnHeadY = y;
        y += Line + 6;
        var rowsTop = y;
        var rowTops = new List<int>();
        foreach (var h in rowHeights)
        {
            rowTops.Add(y);
            y += h;
        }
        var rowsBottom = y;
        if (rows.Count == 0)
        {
            rowsBottom = y += Line * 2;
        }
        var tickY = rowsBottom + 10;
        var axisTitleY = tickY + Line + 4;
        var swatchY = axisTitleY + Line + 14;
        var legendY = swatchY + Line + 6;
        var height = legendY + legend.Count * Line + Margin;

        var c = new Canvas(width, height, Background);

        // title and header
        c.DrawText(title, Margin, titleY, titleScale, Ink, bold: true);
        for (var i = 0; i < header.Count; i++)
        {
            c.DrawText(header[i].Text, Margin, headerY + i * Line, S, header[i].Colour, bold: i == (data.Quick ? 1 : 0));
        }

        // row backgrounds: one shade per case (a case with several metrics is one block)
        var shaded = false;
        for (var i = 0; i < rows.Count; i++)
        {
            if (i > 0 && rows[i].Case != rows[i - 1].Case)
            {
                shaded = !shaded;
            }
            if (shaded)
            {
                c.Fill(0, rowTops[i], width, rowHeights[i], Shade);
            }
            if (i > 0 && rows[i].Case != rows[i - 1].Case)
            {
                c.HLine(Margin, width - Margin, rowTops[i], Separator);
            }
        }
        c.HLine(Margin, width - Margin, rowsTop - 1, Separator);
        c.HLine(Margin, width - Margin, rowsBottom, Ink);

        // grid and ticks
        var tickLabels = new List<(int X0, int X1)>();
        var oneX = axis.X(1.0);
        foreach (var t in axis.Ticks.OrderBy(t => t == 1.0 ? 0 : 1).ThenBy(t => t))
        {
            var x = axis.X(t);
            if (t != 1.0)
            {
                c.DashedVLine(x, rowsTop, rowsBottom - 1, Grid);
            }
            c.VLine(x, rowsBottom, rowsBottom + 5, Ink);
            var label = FormatTick(t);
            var w = Canvas.TextWidth(label, S);
            var lx = Math.Clamp(x - w / 2, plotLeft - 10, width - Margin - w);
            if (tickLabels.All(l => lx + w + 10 < l.X0 || lx > l.X1 + 10))
            {
                c.DrawText(label, lx, tickY, S, t == 1.0 ? Ink : Muted, bold: t == 1.0);
                tickLabels.Add((lx, lx + w));
            }
        }
        var behind = "<- Hyperlane behind";
        var ahead = "Hyperlane ahead ->";
        var axisTitle = log ? "ratio, log scale" : "ratio, linear";
        var bw = Canvas.TextWidth(behind, S);
        var aw = Canvas.TextWidth(ahead, S);
        var atw = Canvas.TextWidth(axisTitle, S);
        c.DrawText(behind, plotLeft, axisTitleY, S, Muted);
        c.DrawText(ahead, width - Margin - aw, axisTitleY, S, Muted);
        var atx = (plotLeft + bw + width - Margin - aw) / 2 - atw / 2;
        if (atx > plotLeft + bw + 24 && atx + atw < width - Margin - aw - 24)
        {
            c.DrawText(axisTitle, atx, axisTitleY, S, Ink);
        }

        // column heads
        c.DrawText("case [unit] / metric", Margin, columnHeadY, S, Muted);
        var oneLabel = "DPDK = 1.0";
        var olw = Canvas.TextWidth(oneLabel, S, bold: true);
        c.DrawText(oneLabel, Math.Clamp(oneX - olw / 2, plotLeft - 8, width - Margin - olw), columnHeadY, S, Ink, bold: true);

        // bars and whiskers
        var bars = new List<BarRect>();
        var labelCols = LabelWidth / CharW;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var top = rowTops[i];
            var first = i == 0 || rows[i - 1].Case != r.Case;
            var caseText = r.Case + (r.Unit is null ? "" : $" [{r.Unit}]");
            c.DrawText(Fit(caseText, labelCols), Margin, top + RowPad + 2, S, first ? Ink : Faint, bold: first);
            c.DrawText(ShortLabel(r.Label, labelCols), Margin, top + RowPad + 2 + Line, S, Muted);

            if (r.Ratio is not { } ratio)
            {
                continue;
            }
            var by = top + (rowHeights[i] - BarHeight) / 2;
            var (bx0, bx1) = axis.BarSpan(ratio);
            var colour = BarColour(ratio);
            c.Fill(bx0, by, bx1 - bx0, BarHeight, colour);
            bars.Add(new BarRect(i, bx0, by, bx1, by + BarHeight, colour));
            if (r.WhiskerLow is { } lo && r.WhiskerHigh is { } hi)
            {
                var wx0 = axis.X(lo);
                var wx1 = axis.X(hi);
                var wy = by + BarHeight / 2 - 1;
                c.HLine(wx0, wx1, wy, Whisker, 2);
                c.VLine(wx0, wy - 6, wy + 7, Whisker, 2);
                c.VLine(wx1 - 1, wy - 6, wy + 7, Whisker, 2);
            }
        }

        // the 1.0 line, over the bars
        c.VLine(oneX - 1, rowsTop - 4, rowsBottom + 5, OneLine, 2);

        // value texts and grey rows (with a background box, so they stay legible over the lines)
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var top = rowTops[i];
            var rowBg = c.Get(1, top + 1);
            if (r.Ratio is not { } ratio)
            {
                var lines = rowText[i];
                var ty = top + RowPad + 2 + (lines.Count < 2 ? Line / 2 : 0);
                // clear the row's band behind the whole text block, so the grid and the 1.0 line
                // stop at it (the row has no bar to measure against the line)
                var blockW = lines.Max(l => Canvas.TextWidth(l.Text, S));
                var sepAbove = i > 0 && rows[i - 1].Case != r.Case ? 1 : 0;
                c.Fill(plotLeft + 6 - 2 * S, top + sepAbove, blockW + 4 * S, rowHeights[i] - sepAbove, rowBg);
                foreach (var (text, colour) in lines)
                {
                    c.DrawText(text, plotLeft + 6, ty, S, colour, box: rowBg);
                    ty += Line;
                }
                continue;
            }
            var by = top + (rowHeights[i] - BarHeight) / 2;
            var (value, note) = ValueText(r);
            var place = axis.TextPlace(r, Canvas.TextWidth(value + note, S, bold: true));
            var vy = by + (BarHeight - Cap) / 2;
            var tw = Canvas.TextWidth(value, S, bold: true);
            c.Fill(place - 2 * S, vy - S, tw + Canvas.TextWidth(note, S) + 4 * S, BitmapFont.GlyphHeight * S + 2 * S, rowBg);
            c.DrawText(value, place, vy, S, Ink, bold: true);
            if (note.Length > 0)
            {
                c.DrawText(note, place + tw, vy, S, Muted);
            }
        }

        // legend: colour swatches, then notes
        var sx = Margin;
        foreach (var (colour, text) in new[]
                 {
                     (Green, "Hyperlane ahead (>= 1.0)"),
                     (Orange, string.Create(CultureInfo.InvariantCulture, $"behind ({RedBelow:0.0#} - 1.0)")),
                     (Red, string.Create(CultureInfo.InvariantCulture, $"behind (< {RedBelow:0.0#})")),
                 })
        {
            c.Fill(sx, swatchY, 28, Cap, colour);
            sx += 36;
            sx += c.DrawText(text, sx, swatchY, S, Ink) + 28;
        }
        if (ratios.Any(r => r.WhiskerLow is not null))
        {
            var wy = swatchY + Cap / 2 - 1;
            c.HLine(sx, sx + 36, wy, Whisker, 2);
            c.VLine(sx, wy - 6, wy + 7, Whisker, 2);
            c.VLine(sx + 35, wy - 6, wy + 7, Whisker, 2);
            c.DrawText("per-run range", sx + 46, swatchY, S, Ink);
        }
        for (var i = 0; i < legend.Count; i++)
        {
            c.DrawText(legend[i].Text, Margin, legendY + i * Line, S, legend[i].Colour);
        }

        return new RenderedChart
        {
            Canvas = c,
            Bars = bars,
            RowBands = rowTops.Select((t, i) => (t, t + rowHeights[i])).ToList(),
            LogScale = log,
            OneX = oneX,
            PlotLeft = plotLeft,
            PlotRight = plotRight,
        };
    }

    /// <summary>"2.15" or "0.95" and, for inverted rows, the note " (DPDK/HL)".</summary>
    internal static (string Value, string Note) ValueText(ChartRow r)
    {
        var v = r.Ratio!.Value;
        var s = v.ToString(v >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        return (s, r.Inverted ? " (DPDK/HL)" : "");
    }

    private static string FormatTick(double t) => t.ToString("0.###", CultureInfo.InvariantCulture);

    // ---- axis ----------------------------------------------------------------------------------

    private sealed class Axis(bool log, double lo, double hi, int px0, int px1, List<double> ticks)
    {
        public bool Log { get; } = log;
        public double Lo { get; } = lo;
        public double Hi { get; } = hi;
        public List<double> Ticks { get; } = ticks;

        public int X(double v)
        {
            v = Math.Clamp(v, Lo, Hi);
            var f = Log ? (Math.Log(v) - Math.Log(Lo)) / (Math.Log(Hi) - Math.Log(Lo)) : (v - Lo) / (Hi - Lo);
            return px0 + (int)Math.Round(f * (px1 - px0));
        }

        /// <summary>Linear: from 0 to the value. Log: from 1.0 towards the value (at least 4 px, so 1.00 shows).</summary>
        public (int X0, int X1) BarSpan(double ratio)
        {
            if (!Log)
            {
                return (X(0), Math.Max(X(ratio), X(0) + 4));
            }
            var one = X(1.0);
            var end = X(ratio);
            return ratio >= 1.0 ? (one, Math.Max(end, one + 4)) : (Math.Min(end, one - 4), one);
        }

        /// <summary>
        /// Left edge of the value text: past the far end of the bar and whisker (to the right, or in
        /// log scale for a ratio under 1.0 to the left).
        /// </summary>
        public int TextPlace(ChartRow r, int textWidth)
        {
            var (b0, b1) = BarSpan(r.Ratio!.Value);
            if (Log && r.Ratio < 1.0)
            {
                var left = Math.Min(b0, r.WhiskerLow is { } wl ? X(wl) : b0);
                return left - 10 - textWidth;
            }
            var right = Math.Max(b1, r.WhiskerHigh is { } wh ? X(wh) : b1);
            return right + 10;
        }
    }

    /// <summary>
    /// Picks the axis range: log from a 1-2-5 value at or under the smallest value to one at or
    /// over the largest, linear from 0 to a round value over the largest (and over 1.0); then
    /// widens it until every value text fits between the plot's left edge and the right margin.
    /// </summary>
    private static Axis FitAxis(List<ChartRow> rows, bool log, double min, double max, int px0, int px1, int textMin, int textMax)
    {
        double lo, hi;
        if (log)
        {
            lo = Down125(min);
            hi = Up125(max);
        }
        else
        {
            lo = 0;
            hi = NiceCeil(Math.Max(max, 1.0) * 1.05);
        }
        Axis axis = null!;
        for (var iter = 0; iter < 60; iter++)
        {
            axis = new Axis(log, lo, hi, px0, px1, log ? Ticks125(lo, hi) : LinearTicks(hi));
            bool growLo = false, growHi = false;
            foreach (var r in rows)
            {
                var (v, n) = ValueText(r);
                var w = Canvas.TextWidth(v + n, S, bold: true);
                var x = axis.TextPlace(r, w);
                growLo |= x < textMin;
                growHi |= x + w > textMax;
            }
            if (!growLo && !growHi)
            {
                break;
            }
            if (growLo && log)
            {
                lo = Down125(lo * 0.99);
            }
            if (growHi)
            {
                hi = log ? Up125(hi * 1.01) : NiceCeil(hi * 1.08);
            }
        }
        return axis;
    }

    private static double Up125(double v)
    {
        var e = Math.Floor(Math.Log10(v));
        foreach (var m in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            var c = m * Math.Pow(10, e);
            if (c >= v * (1 - 1e-9))
            {
                return c;
            }
        }
        return 10 * Math.Pow(10, e);
    }

    private static double Down125(double v)
    {
        var e = Math.Floor(Math.Log10(v));
        foreach (var m in new[] { 5.0, 2.0, 1.0 })
        {
            var c = m * Math.Pow(10, e);
            if (c <= v * (1 + 1e-9))
            {
                return c;
            }
        }
        return Math.Pow(10, e - 1) * 5;
    }

    private static List<double> Ticks125(double lo, double hi)
    {
        var ticks = new List<double>();
        for (var e = (int)Math.Floor(Math.Log10(lo)) - 1; e <= (int)Math.Ceiling(Math.Log10(hi)); e++)
        {
            foreach (var m in new[] { 1.0, 2.0, 5.0 })
            {
                var t = Math.Round(m * Math.Pow(10, e), 6);
                if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9))
                {
                    ticks.Add(t);
                }
            }
        }
        return ticks;
    }

    /// <summary>A round upper bound: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k.</summary>
    private static double NiceCeil(double v)
    {
        var e = Math.Floor(Math.Log10(v));
        foreach (var m in new[] { 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0 })
        {
            var c = m * Math.Pow(10, e);
            if (c >= v * (1 - 1e-9))
            {
                return c;
            }
        }
        return 10 * Math.Pow(10, e);
    }

    private static List<double> LinearTicks(double hi)
    {
        var raw = hi / 6;
        var e = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2.0, 2.5, 5.0, 10.0 }.Select(m => m * e).First(s => s >= raw * (1 - 1e-9));
        var ticks = new List<double>();
        for (var t = 0.0; t <= hi * (1 + 1e-9); t += step)
        {
            ticks.Add(Math.Round(t, 6));
        }
        if (!ticks.Contains(1.0))
        {
            ticks.Add(1.0);
        }
        return ticks;
    }

    // ---- text ----------------------------------------------------------------------------------

    /// <summary>Word-wraps <paramref name="text"/> (after mapping to ASCII) to lines of at most <paramref name="cols"/> characters.</summary>
    internal static List<string> Wrap(string text, int cols)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in BitmapFont.ToAscii(text).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var w = word;
            while (w.Length > cols)
            {
                if (line.Length > 0)
                {
                    lines.Add(line);
                    line = "";
                }
                lines.Add(w[..cols]);
                w = w[cols..];
            }
            if (line.Length == 0)
            {
                line = w;
            }
            else if (line.Length + 1 + w.Length <= cols)
            {
                line += " " + w;
            }
            else
            {
                lines.Add(line);
                line = w;
            }
        }
        if (line.Length > 0 || lines.Count == 0)
        {
            lines.Add(line);
        }
        return lines;
    }

    private static string Fit(string s, int cols)
    {
        s = BitmapFont.ToAscii(s);
        return s.Length <= cols ? s : s[..(cols - 3)] + "...";
    }

    /// <summary>
    /// The metric label, shortened to fit the label column: whole if it fits, else up to " (",
    /// else up to ", ", else up to ": ", else cut with "...".
    /// </summary>
    internal static string ShortLabel(string label, int cols)
    {
        var s = BitmapFont.ToAscii(label).Trim();
        if (s.Length <= cols)
        {
            return s;
        }
        foreach (var sep in new[] { " (", ", ", ": " })
        {
            var i = s.IndexOf(sep, StringComparison.Ordinal);
            if (i > 0)
            {
                s = s[..i];
                if (s.Length <= cols)
                {
                    return s;
                }
            }
        }
        return Fit(s, cols);
    }
}
