using System.Diagnostics;

namespace Hyperlane.Testing;

/// <summary>Polling waits for lab tests: they never assert speed, only that a condition comes true in time.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 2 ms; fails the test with <paramref name="what"/> after <paramref name="timeout"/>. Returns the time it took.</summary>
    public static TimeSpan Until(Func<bool> condition, Func<string> what, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(what);
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout)
            {
                Assert.Fail($"not within {timeout.TotalSeconds:0.#} s: {what()}");
            }

            Thread.Sleep(2);
        }

        return sw.Elapsed;
    }

    /// <summary><see cref="Until(Func{bool}, Func{string}, TimeSpan)"/> with 10 s.</summary>
    public static TimeSpan Until(Func<bool> condition, Func<string> what) => Until(condition, what, TimeSpan.FromSeconds(10));
}
