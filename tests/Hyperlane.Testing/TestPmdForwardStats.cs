using System.Globalization;
using System.Text.RegularExpressions;

namespace Hyperlane.Testing;

/// <summary>
/// One port's block of testpmd's "Forward statistics for port N" (printed at stop and at exit): what its forwarding
/// lcores received and sent since forwarding started.
/// </summary>
public sealed partial record TestPmdForwardStats(long RxPackets, long RxDropped, long TxPackets, long TxDropped)
{
    /// <summary>The last block for <paramref name="port"/> in <paramref name="text"/>, or null when there is none.</summary>
    public static TestPmdForwardStats? Parse(string text, int port)
    {
        ArgumentNullException.ThrowIfNull(text);
        TestPmdForwardStats? last = null;
        foreach (Match m in Block().Matches(text))
        {
            if (int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture) == port)
            {
                last = new TestPmdForwardStats(
                    long.Parse(m.Groups["rx"].Value, CultureInfo.InvariantCulture),
                    long.Parse(m.Groups["rxd"].Value, CultureInfo.InvariantCulture),
                    long.Parse(m.Groups["tx"].Value, CultureInfo.InvariantCulture),
                    long.Parse(m.Groups["txd"].Value, CultureInfo.InvariantCulture));
            }
        }

        return last;
    }

    [GeneratedRegex(@"Forward statistics for port (?<port>\d+)\s*-*\s*RX-packets:\s*(?<rx>\d+)\s+RX-dropped:\s*(?<rxd>\d+)\s+RX-total:\s*\d+\s*TX-packets:\s*(?<tx>\d+)\s+TX-dropped:\s*(?<txd>\d+)")]
    private static partial Regex Block();
}
