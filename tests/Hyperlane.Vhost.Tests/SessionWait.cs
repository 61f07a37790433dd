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

    /// <summary>The number of open fds of this process.</summary>
    public static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>
    /// The open fds before and after <paramref name="action"/>, with the GC suspended meanwhile: a SafeFd finalizer would
    /// otherwise close a leaked fd and hide the leak.
    /// </summary>
    public static (int Before, int After) FdsAround(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.True(GC.TryStartNoGCRegion(200L << 20), "could not suspend the GC for the count");
        try
        {
            int before = OpenFds();
            action();
            return (before, OpenFds());
        }
        finally
        {
            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
    }

    /// <summary>How many lines of /proc/self/maps map a file whose name contains <paramref name="name"/>.</summary>
    public static int Mappings(string name) => File.ReadLines("/proc/self/maps").Count(l => l.Contains(name, StringComparison.Ordinal));
}
