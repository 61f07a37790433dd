namespace Hyperlane.Linux;

/// <summary>
/// The one root every read of sysfs, procfs or /dev goes through (DESIGN.md, Devices), so tests can
/// point Hyperlane at a tree they built. Defaults to "/"; <c>HYPERLANE_HOST_ROOT</c> overrides it.
/// </summary>
public static class HostFs
{
    private static string root = Normalize(Environment.GetEnvironmentVariable("HYPERLANE_HOST_ROOT"));

    /// <summary>The directory that stands for "/".</summary>
    public static string Root
    {
        get => Volatile.Read(ref root);
        set => Volatile.Write(ref root, Normalize(value));
    }

    /// <summary>Maps an absolute host path such as "/sys/class/net" under <see cref="Root"/>.</summary>
    public static string Path(string absolute)
    {
        ArgumentException.ThrowIfNullOrEmpty(absolute);
        if (absolute[0] != '/')
        {
            throw new ArgumentException($"'{absolute}' is not an absolute path", nameof(absolute));
        }

        string r = Root;
        return r == "/" ? absolute : r + absolute;
    }

    /// <summary>Reads a small text file (sysfs attribute) trimmed, or null when it does not exist or cannot be read.</summary>
    public static string? ReadText(string absolute)
    {
        try
        {
            return File.ReadAllText(Path(absolute)).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Reads a sysfs attribute as a non-negative integer, or null when absent or not a number.</summary>
    public static long? ReadInt64(string absolute) =>
        long.TryParse(ReadText(absolute), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v) && v >= 0 ? v : null;

    private static string Normalize(string? value)
    {
        if (string.IsNullOrEmpty(value) || value == "/")
        {
            return "/";
        }

        return value.TrimEnd('/');
    }
}
