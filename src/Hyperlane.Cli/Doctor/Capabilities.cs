using System.Globalization;

namespace Hyperlane.Cli.Doctor;

/// <summary>The effective capability set (CapEff in /proc/self/status), or why it could not be read.</summary>
public sealed record Capabilities(ulong? Effective, string? Problem)
{
    public const int CapNetAdmin = 12;
    public const int CapNetRaw = 13;

    public bool HasNetAdmin => Has(CapNetAdmin);

    public bool HasNetRaw => Has(CapNetRaw);

    public bool Has(int capability) => Effective is { } e && capability is >= 0 and < 64 && (e & (1UL << capability)) != 0;

    /// <summary>CapEff as /proc prints it (16 hex digits), or null.</summary>
    public string? EffectiveHex => Effective?.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Finds the CapEff line in the text of /proc/PID/status and parses its hex value. False (with the
    /// reason) when there is none or it is not 1 to 16 hex digits.
    /// </summary>
    public static bool TryParseCapEff(string status, out ulong effective, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(status);
        effective = 0;
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                continue;
            }

            string value = line["CapEff:".Length..].Trim();
            if (value.Length is 0 or > 16 || !ulong.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out effective))
            {
                problem = $"CapEff '{Hyperlane.Net.VdevNetvsc.SysfsTree.Printable(value)}' is not a hex capability mask";
                return false;
            }

            problem = null;
            return true;
        }

        problem = "no CapEff line";
        return false;
    }
}
