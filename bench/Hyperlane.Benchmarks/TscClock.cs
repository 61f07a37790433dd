using System.Globalization;

namespace Hyperlane.Benchmarks;

/// <summary>
/// The TSC frequency used to turn nanoseconds into TSC-equivalent cycles, so that Hyperlane's figures
/// stand next to DPDK's rte_rdtsc() counts. Read from the first "cpu MHz" line of /proc/cpuinfo
/// (constant_tsc: on this machine kind it is the TSC rate, 2596 MHz); HL_TSC_MHZ overrides it.
/// </summary>
public static class TscClock
{
    private static readonly Lazy<double> Mhz = new(ReadMhz);

    /// <summary>TSC frequency in MHz.</summary>
    public static double MegaHertz => Mhz.Value;

    /// <summary>TSC frequency in GHz: cycles = ns × this.</summary>
    public static double GigaHertz => Mhz.Value / 1000.0;

    /// <summary>Where <see cref="MegaHertz"/> came from.</summary>
    public static string Source { get; private set; } = "unknown";

    private static double ReadMhz()
    {
        string? env = Environment.GetEnvironmentVariable("HL_TSC_MHZ");
        if (env is not null && double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out double fromEnv) && fromEnv > 0)
        {
            Source = "HL_TSC_MHZ";
            return fromEnv;
        }

        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("cpu MHz", StringComparison.Ordinal))
                {
                    continue;
                }

                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && double.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz) && mhz > 0)
                {
                    Source = "/proc/cpuinfo";
                    return mhz;
                }
            }
        }
        catch (IOException)
        {
            // fall through to the default below
        }

        Source = "default (no cpu MHz in /proc/cpuinfo)";
        return 2596.0;
    }
}
