namespace Hyperlane.Linux.Tests.Unix;

/// <summary>Counts this process's open descriptors (/proc/self/fd), to prove a call leaked none.</summary>
public static class OpenDescriptors
{
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>
    /// Asserts the count is back to <paramref name="before"/>, allowing a moment for a runtime thread that
    /// happened to hold a descriptor while counting.
    /// </summary>
    public static void AssertUnchanged(int before)
    {
        int after = Count();
        for (int i = 0; i < 10 && after != before; i++)
        {
            Thread.Sleep(50);
            after = Count();
        }

        Assert.Equal(before, after);
    }
}
