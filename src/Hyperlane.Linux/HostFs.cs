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
    public static string Path(string absolute) => Path(absolute, null);

    /// <summary>Maps an absolute host path under <paramref name="root"/> (null or empty: <see cref="Root"/>).</summary>
    public static string Path(string absolute, string? root)
    {
        ArgumentException.ThrowIfNullOrEmpty(absolute);
        if (absolute[0] != '/')
        {
            throw new ArgumentException($"'{absolute}' is not an absolute path", nameof(absolute));
        }

        string r = string.IsNullOrEmpty(root) ? Root : Normalize(root);
        return r == "/" ? absolute : r + absolute;
    }

    /// <summary>Reads a small text file (sysfs attribute) trimmed, or null when it does not exist or cannot be read.</summary>
    public static string? ReadText(string absolute) => ReadText(absolute, null);

    /// <summary>
    /// <see cref="ReadText(string)"/> under <paramref name="root"/> (null: <see cref="Root"/>), for readers that
    /// carry a root of their own (doctor, discovery) instead of the process-wide one.
    /// </summary>
    public static string? ReadText(string absolute, string? root)
    {
        try
        {
            return File.ReadAllText(Path(absolute, root)).Trim();
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
    public static long? ReadInt64(string absolute) => ReadInt64(absolute, null);

    /// <summary><see cref="ReadInt64(string)"/> under <paramref name="root"/> (null: <see cref="Root"/>).</summary>
    public static long? ReadInt64(string absolute, string? root) =>
        long.TryParse(ReadText(absolute, root), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v) && v >= 0 ? v : null;

    private static string Normalize(string? value)
    {
        if (string.IsNullOrEmpty(value) || value == "/")
        {
            return "/";
        }

        return value.TrimEnd('/');
    }
}
