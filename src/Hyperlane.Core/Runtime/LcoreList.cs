using System.Globalization;

namespace Hyperlane.Core.Runtime;

/// <summary>Parses DPDK's core lists: "0-3", "0,2,4", "1-2,5" (EAL's -l).</summary>
public static class LcoreList
{
    /// <summary>The lcore ids in <paramref name="text"/>, ascending, without duplicates.</summary>
    public static IReadOnlyList<int> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("empty core list (expected e.g. 0-1 or 0,2)");
        }

        var set = new SortedSet<int>();
        foreach (var part in text.Split(','))
        {
            var range = part.Trim();
            int dash = range.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                set.Add(Core(range, text));
                continue;
            }

            int lo = Core(range[..dash], text), hi = Core(range[(dash + 1)..], text);
            if (hi < lo)
            {
                throw new FormatException($"core list '{text}': range {range} runs backwards");
            }

            for (int i = lo; i <= hi; i++)
            {
                set.Add(i);
            }
        }

        return [.. set];
    }

    private static int Core(string s, string whole)
    {
        if (!int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v >= Memory.LcoreId.MaxLcores)
        {
            throw new FormatException($"core list '{whole}': '{s}' is not a core number 0..{Memory.LcoreId.MaxLcores - 1}");
        }

        return v;
    }
}
