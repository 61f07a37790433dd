namespace Hyperlane.BenchChart;

/// <summary>An opaque 8-bit RGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Hex(int rgb) => new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);

    public override string ToString() => $"#{R:X2}{G:X2}{B:X2}";
}

/// <summary>
/// An RGB raster (3 bytes per pixel, rows top to bottom) with the few primitives the chart needs:
/// filled rectangles, axis-parallel lines and bitmap text. Everything is clipped to the canvas.
/// </summary>
internal sealed class Canvas
{
    public Canvas(int width, int height, Rgb background)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"canvas {width}x{height}");
        }
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
        Fill(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>RGB bytes, row-major, no padding.</summary>
    public byte[] Pixels { get; }

    public Rgb Get(int x, int y)
    {
        var i = (y * Width + x) * 3;
        return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    public void Set(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            return;
        }
        var i = (y * Width + x) * 3;
        Pixels[i] = c.R;
        Pixels[i + 1] = c.G;
        Pixels[i + 2] = c.B;
    }

    public void Fill(int x, int y, int w, int h, Rgb c)
    {
        var x0 = Math.Max(0, x);
        var y0 = Math.Max(0, y);
        var x1 = Math.Min(Width, x + w);
        var y1 = Math.Min(Height, y + h);
        for (var yy = y0; yy < y1; yy++)
        {
            var i = (yy * Width + x0) * 3;
            for (var xx = x0; xx < x1; xx++, i += 3)
            {
                Pixels[i] = c.R;
                Pixels[i + 1] = c.G;
                Pixels[i + 2] = c.B;
            }
        }
    }

    public void HLine(int x0, int x1, int y, Rgb c, int thickness = 1) =>
        Fill(Math.Min(x0, x1), y, Math.Abs(x1 - x0) + 1, thickness, c);

    public void VLine(int x, int y0, int y1, Rgb c, int thickness = 1) =>
        Fill(x, Math.Min(y0, y1), thickness, Math.Abs(y1 - y0) + 1, c);

    /// <summary>A vertical dashed line: <paramref name="on"/> pixels drawn, <paramref name="off"/> skipped.</summary>
    public void DashedVLine(int x, int y0, int y1, Rgb c, int on = 4, int off = 4)
    {
        for (var y = Math.Min(y0, y1); y <= Math.Max(y0, y1); y += on + off)
        {
            Fill(x, y, 1, Math.Min(on, Math.Max(y0, y1) - y + 1), c);
        }
    }

    public void Rect(int x, int y, int w, int h, Rgb c)
    {
        HLine(x, x + w - 1, y, c);
        HLine(x, x + w - 1, y + h - 1, c);
        VLine(x, y, y + h - 1, c);
        VLine(x + w - 1, y, y + h - 1, c);
    }

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/> (no trailing gap).</summary>
    public static int TextWidth(string text, int scale, bool bold = false)
    {
        var n = BitmapFont.ToAscii(text).Length;
        return n == 0 ? 0 : ((n * BitmapFont.Advance) - 1) * scale + (bold ? 1 : 0);
    }

    /// <summary>Height of one text line (cap height + descenders + gap) at <paramref name="scale"/>.</summary>
    public static int LineHeight(int scale) => BitmapFont.LineHeight * scale;

    /// <summary>
    /// Draws <paramref name="text"/> with its top-left (top of a capital) at (x, y). <paramref name="bold"/>
    /// draws every glyph twice, one pixel apart. With <paramref name="box"/> the text's cell is filled
    /// first (so it stays legible over grid lines). Returns the width drawn.
    /// </summary>
    public int DrawText(string text, int x, int y, int scale, Rgb c, bool bold = false, Rgb? box = null)
    {
        var s = BitmapFont.ToAscii(text);
        var width = TextWidth(s, scale, bold);
        if (box is { } bg)
        {
            Fill(x - scale * 2, y - scale, width + scale * 4, BitmapFont.GlyphHeight * scale + scale * 2, bg);
        }
        var pen = x;
        foreach (var ch in s)
        {
            var rows = BitmapFont.Rows(ch);
            for (var gy = 0; gy < BitmapFont.GlyphHeight; gy++)
            {
                var bits = rows[gy];
                if (bits == 0)
                {
                    continue;
                }
                for (var gx = 0; gx < BitmapFont.GlyphWidth; gx++)
                {
                    if ((bits & (1 << (BitmapFont.GlyphWidth - 1 - gx))) == 0)
                    {
                        continue;
                    }
                    Fill(pen + gx * scale, y + gy * scale, scale, scale, c);
                    if (bold)
                    {
                        Fill(pen + gx * scale + 1, y + gy * scale, scale, scale, c);
                    }
                }
            }
            pen += BitmapFont.Advance * scale;
        }
        return width;
    }
}
