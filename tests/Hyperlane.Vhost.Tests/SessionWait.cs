using System.Diagnostics;

namespace Hyperlane.Vhost.Tests;

/// <summary>Polling waits with a timeout for the session tests (the backend works on its own thread).</summary>
internal static class SessionWait
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static bool Until(Func<bool> condition, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (timeout ?? Default))
            {
                return condition();
            }

            Thread.Sleep(5);
        }

        return true;
    }

    public static void AssertUntil(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Assert.True(Until(condition, timeout), $"timed out waiting for {what}");

    /// <summary>How many lines of /proc/self/maps map a file whose name contains <paramref name="name"/>.</summary>
    public static int Mappings(string name) => File.ReadLines("/proc/self/maps").Count(l => l.Contains(name, StringComparison.Ordinal));
}
