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

    /// <summary>
    /// The fds that <paramref name="action"/> left open: open after it and not before (by number and target), as
    /// "fd N -> target". The GC is suspended meanwhile: a SafeFd finalizer would otherwise close a leaked fd and hide
    /// the leak. Comparing sets rather than counts keeps an fd that something else closes meanwhile (a previous test's
    /// thread finishing its teardown) from hiding a leak or failing the test.
    /// </summary>
    public static IReadOnlyList<string> FdsLeftOpenBy(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.True(GC.TryStartNoGCRegion(200L << 20), "could not suspend the GC for the count");
        try
        {
            HashSet<string> before = [.. Fds()];
            action();
            return [.. Fds().Where(fd => !before.Contains(fd))];
        }
        finally
        {
            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
    }

    /// <summary>This process's open fds as "fd N -> target"; an fd closed while listing is left out.</summary>
    private static IEnumerable<string> Fds()
    {
        foreach (string path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }

            if (target is not null)
            {
                yield return $"fd {Path.GetFileName(path)} -> {target}";
            }
        }
    }

    /// <summary>How many lines of /proc/self/maps map a file whose name contains <paramref name="name"/>.</summary>
    public static int Mappings(string name) => File.ReadLines("/proc/self/maps").Count(l => l.Contains(name, StringComparison.Ordinal));
}
