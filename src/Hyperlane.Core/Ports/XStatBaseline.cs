namespace Hyperlane.Core.Ports;

/// <summary>
/// Lets a driver's own extended statistics read 0 after <see cref="EthDev.ResetStats"/>, as DPDK's xstats_reset does,
/// while the counters behind them keep growing: <see cref="Capture"/> the raw values in <c>OnResetStats</c>, and add
/// them with <see cref="AddSince"/> in <c>OnAddXStats</c>. A name the capture did not see counts from 0.
/// </summary>
public sealed class XStatBaseline
{
    private Dictionary<string, long> values = [];

    /// <summary>Records <paramref name="raw"/> as the new zero.</summary>
    public void Capture(IEnumerable<XStat> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (XStat x in raw)
        {
            next[x.Name] = x.Value;
        }

        values = next;
    }

    /// <summary>Appends each of <paramref name="raw"/> to <paramref name="xstats"/>, less its captured value.</summary>
    public void AddSince(List<XStat> xstats, IEnumerable<XStat> raw)
    {
        ArgumentNullException.ThrowIfNull(xstats);
        ArgumentNullException.ThrowIfNull(raw);
        foreach (XStat x in raw)
        {
            xstats.Add(x with { Value = x.Value - values.GetValueOrDefault(x.Name) });
        }
    }
}
