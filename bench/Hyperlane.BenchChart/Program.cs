// Hyperlane.BenchChart: the PNG chart of a bench/run.sh results file.
//
//   Hyperlane.BenchChart RESULTS.json [-o OUT.png] [--width PX]
//       draws RESULTS.json (bench/results/<date>.json, written by bench/lib/benchlib.py report)
//       to OUT.png (default: RESULTS with .png instead of .json) and prints OUT's path
//   Hyperlane.BenchChart --self-test [OUT.png]
//       draws a built-in sample (log and linear scale), decodes the PNGs it wrote and checks
//       them (chunk CRCs, IHDR, inflated rows, bar colours at known positions); exit 0 when
//       everything holds. OUT defaults to a file in the temp dir; the linear one is OUT.linear.png.
//
// Exit status: 0 done, 1 failed (the message says why), 2 bad usage.

namespace Hyperlane.BenchChart;

internal static class Program
{
    private const string Usage =
        "usage: Hyperlane.BenchChart RESULTS.json [-o OUT.png] [--width PX]\n" +
        "       Hyperlane.BenchChart --self-test [OUT.png]";

    public static int Main(string[] args)
    {
        string? input = null, output = null;
        var width = 1200;
        var selfTest = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                case "--self-test":
                    selfTest = true;
                    break;
                case "-o" or "--output" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "--width" when i + 1 < args.Length && int.TryParse(args[i + 1], out var w) && w >= 800 && w <= 8000:
                    width = w;
                    i++;
                    break;
                default:
                    if (args[i].StartsWith('-') || (input is not null && !selfTest) || (selfTest && output is not null))
                    {
                        Console.Error.WriteLine($"Hyperlane.BenchChart: unexpected argument '{args[i]}'\n{Usage}");
                        return 2;
                    }
                    if (selfTest)
                    {
                        output = args[i];
                    }
                    else
                    {
                        input = args[i];
                    }
                    break;
            }
        }

        try
        {
            if (selfTest)
            {
                if (input is not null)
                {
                    Console.Error.WriteLine($"Hyperlane.BenchChart: --self-test takes no results file\n{Usage}");
                    return 2;
                }
                return SelfTest.Run(output ?? Path.Combine(Path.GetTempPath(), "hyperlane-benchchart-selftest.png"));
            }
            if (input is null)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            output ??= Path.ChangeExtension(input, ".png");
            var data = ChartData.Load(input);
            var chart = ChartRenderer.Render(data, width);
            File.WriteAllBytes(output, PngWriter.Encode(chart.Canvas));
            Console.WriteLine(output);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
                                       or System.Text.Json.JsonException or ArgumentException)
        {
            Console.Error.WriteLine($"Hyperlane.BenchChart: {e.Message}");
            return 1;
        }
    }
}
