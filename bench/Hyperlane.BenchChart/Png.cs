using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Hyperlane.BenchChart;

/// <summary>CRC-32 as PNG (and zlib, gzip, Ethernet) use it: polynomial 0xEDB88320 (reflected), init and final xor 0xFFFFFFFF.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = MakeTable();

    private static uint[] MakeTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[n] = c;
        }
        return t;
    }

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}

/// <summary>Writes an 8-bit RGB, non-interlaced PNG: IHDR, one IDAT (zlib, filter type 0 on every row), IEND.</summary>
internal static class PngWriter
{
    public static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Encode(Canvas canvas)
    {
        var w = canvas.Width;
        var h = canvas.Height;
        var rowBytes = w * 3;

        byte[] idat;
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                var row = new byte[1 + rowBytes]; // row[0] = 0: filter type None
                for (var y = 0; y < h; y++)
                {
                    Buffer.BlockCopy(canvas.Pixels, y * rowBytes, row, 1, rowBytes);
                    z.Write(row);
                }
            }
            idat = compressed.ToArray();
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(0), (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: truecolour (RGB)
        ihdr[10] = 0; // compression: deflate
        ihdr[11] = 0; // filter method 0 (per-row filter types; we use type 0)
        ihdr[12] = 0; // no interlace

        using var png = new MemoryStream();
        png.Write(Signature);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", idat);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(u32, (uint)data.Length);
        s.Write(u32);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32.Update(0xFFFFFFFFu, typeBytes);
        crc = Crc32.Update(crc, data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(u32, crc);
        s.Write(u32);
    }
}

/// <summary>
/// Reads back exactly what <see cref="PngWriter"/> writes (8-bit RGB, no interlace, filter type 0),
/// checking the signature, every chunk's CRC and the IHDR fields; for the self-test.
/// </summary>
internal sealed class PngImage
{
    private PngImage(int width, int height, byte[] rgb, List<string> chunks)
    {
        Width = width;
        Height = height;
        Rgb = rgb;
        Chunks = chunks;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }
    /// <summary>Chunk types in file order.</summary>
    public IReadOnlyList<string> Chunks { get; }

    public Rgb Pixel(int x, int y)
    {
        var i = (y * Width + x) * 3;
        return new Rgb(Rgb[i], Rgb[i + 1], Rgb[i + 2]);
    }

    public static PngImage Decode(byte[] png)
    {
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(PngWriter.Signature))
        {
            throw new InvalidDataException("not a PNG (signature)");
        }
        var pos = 8;
        int w = 0, h = 0;
        var chunks = new List<string>();
        using var idat = new MemoryStream();
        while (true)
        {
            if (pos + 12 > png.Length)
            {
                throw new InvalidDataException($"truncated chunk header at {pos}");
            }
            var len = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (len > int.MaxValue || pos + 12 + (long)len > png.Length)
            {
                throw new InvalidDataException($"chunk at {pos}: length {len} beyond the file");
            }
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, (int)len);
            var stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + (int)len));
            var actual = Crc32.Compute(png.AsSpan(pos + 4, 4 + (int)len));
            if (stored != actual)
            {
                throw new InvalidDataException($"chunk {type} at {pos}: CRC {stored:X8}, computed {actual:X8}");
            }
            chunks.Add(type);
            switch (type)
            {
                case "IHDR":
                    if (chunks.Count != 1 || len != 13)
                    {
                        throw new InvalidDataException("IHDR must come first and be 13 bytes");
                    }
                    w = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                    h = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                    if (w <= 0 || h <= 0 || data[8] != 8 || data[9] != 2 || data[10] != 0 || data[11] != 0 || data[12] != 0)
                    {
                        throw new InvalidDataException(
                            $"IHDR {w}x{h} depth {data[8]} colour {data[9]} compression {data[10]} filter {data[11]} interlace {data[12]}: expected 8-bit RGB, no interlace");
                    }
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }
            pos += 12 + (int)len;
            if (type == "IEND")
            {
                break;
            }
        }
        if (pos != png.Length)
        {
            throw new InvalidDataException($"{png.Length - pos} byte(s) after IEND");
        }
        if (w == 0)
        {
            throw new InvalidDataException("no IHDR");
        }

        var rowBytes = w * 3;
        var raw = new byte[(rowBytes + 1) * h];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            z.ReadExactly(raw);
            if (z.ReadByte() != -1)
            {
                throw new InvalidDataException("IDAT inflates to more than height x (1 + width x 3) bytes");
            }
        }
        var rgb = new byte[rowBytes * h];
        for (var y = 0; y < h; y++)
        {
            var filter = raw[y * (rowBytes + 1)];
            if (filter != 0)
            {
                throw new InvalidDataException($"row {y}: filter type {filter}, expected 0");
            }
            Buffer.BlockCopy(raw, y * (rowBytes + 1) + 1, rgb, y * rowBytes, rowBytes);
        }
        return new PngImage(w, h, rgb, chunks);
    }
}
