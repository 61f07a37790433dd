namespace Hyperlane.Testing;

/// <summary>Fd-leak checks for tests: which of this process's fds an action left open.</summary>
public static class OpenFds
{
    /// <summary>
    /// The fds that <paramref name="action"/> left open: open after it and not before (by number and target), as
    /// "fd N -> target". The GC is suspended meanwhile: a SafeFd finalizer would otherwise close a leaked fd and hide
    /// the leak. Comparing sets rather than counts keeps an fd that something else closes meanwhile (a previous test's
    /// thread finishing its teardown) from hiding a leak or failing the test.
    /// </summary>
    public static IReadOnlyList<string> LeftOpenBy(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
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
}
