using System.Text;
using Hyperlane.Linux;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// Reads a host tree (sysfs, procfs, /dev) under one root directory that stands for "/": the real host
/// with <see cref="HostFs.Root"/> (the default), or a tree a test built in a temporary directory. The root
/// belongs to the instance, so tests running in parallel each read their own tree without touching the
/// global <see cref="HostFs"/>. Every read validates what it finds and reports a problem instead of
/// throwing: missing files, unreadable files, oversized "attributes", odd links.
/// Symbolic links inside a built tree should be relative, as in the real sysfs, so they resolve inside it.
/// Immutable and thread-safe.
/// </summary>
public sealed class SysfsTree
{
    /// <summary>A sysfs attribute never holds more than a page; anything larger is not one.</summary>
    public const int MaxAttributeBytes = 4096;

    private readonly string _prefix;

    /// <summary>A tree rooted at <paramref name="root"/>; null or empty means <see cref="HostFs.Root"/>.</summary>
    public SysfsTree(string? root = null)
    {
        string r = string.IsNullOrEmpty(root) ? HostFs.Root : root;
        if (r[0] != '/')
        {
            r = System.IO.Path.GetFullPath(r);
        }

        r = r.TrimEnd('/');
        Root = r.Length == 0 ? "/" : r;
        _prefix = Root == "/" ? string.Empty : Root;
    }

    /// <summary>The directory that stands for "/" (no trailing slash, except "/" itself).</summary>
    public string Root { get; }

    /// <summary>True when the root is the real "/".</summary>
    public bool IsHostRoot => _prefix.Length == 0;

    /// <summary>Maps an absolute host path such as "/sys/class/net" under <see cref="Root"/>.</summary>
    public string Path(string absolute)
    {
        ArgumentException.ThrowIfNullOrEmpty(absolute);
        if (absolute[0] != '/')
        {
            throw new ArgumentException($"'{absolute}' is not an absolute path", nameof(absolute));
        }

        return _prefix + absolute;
    }

    /// <summary>
    /// Whether the path exists: a directory (following links), or a file that is not a symbolic link. .NET
    /// calls a dangling link an existing file; sysfs links always point at directories, so a link that is
    /// not a directory counts as broken here.
    /// </summary>
    public bool Exists(string absolute)
    {
        string p = Path(absolute);
        return Directory.Exists(p) || (File.Exists(p) && !IsLink(p));
    }

    /// <summary>Whether the path is a directory (following links).</summary>
    public bool DirectoryExists(string absolute) => Directory.Exists(Path(absolute));

    /// <summary>
    /// Reads a small text attribute, trimmed of surrounding white space (sysfs ends values with a newline).
    /// Missing, unreadable (permission, EIO, a directory) or larger than <see cref="MaxAttributeBytes"/>:
    /// no value, and a problem naming the host path.
    /// </summary>
    public SysfsValue ReadAttribute(string absolute)
    {
        string path = Path(absolute);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.None);
            Span<byte> buffer = stackalloc byte[MaxAttributeBytes + 1];
            int total = 0;
            while (total < buffer.Length)
            {
                int n = stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            if (total > MaxAttributeBytes)
            {
                return SysfsValue.Failed($"{absolute} is larger than {MaxAttributeBytes} bytes: not a sysfs attribute");
            }

            return SysfsValue.Of(Encoding.UTF8.GetString(buffer[..total]).Trim());
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return SysfsValue.Missing($"{absolute} does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            return SysfsValue.Failed(Directory.Exists(path) ? $"{absolute} is a directory, not an attribute" : $"{absolute} cannot be read: permission denied");
        }
        catch (IOException e)
        {
            return SysfsValue.Failed($"{absolute} cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Reads a symbolic link: its target text, the target's last component, and whether the target exists
    /// as a directory (as every sysfs link's target does).
    /// A path that is no link, or a target without a usable last component, gives a problem.
    /// </summary>
    public SysfsLink ReadLink(string absolute)
    {
        string path = Path(absolute);
        string? target;
        try
        {
            target = new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new SysfsLink(null, null, false, $"{absolute} cannot be read: {e.Message}");
        }

        // sysfs links (device, driver, subsystem) point at directories: a link resolves when its target is one.
        bool resolves = Directory.Exists(path) || (target is null && File.Exists(path));
        if (target is null)
        {
            return resolves
                ? new SysfsLink(null, null, true, $"{absolute} is not a symbolic link")
                : new SysfsLink(null, null, false, $"{absolute} does not exist") { IsMissing = true };
        }

        string name = BaseName(target);
        if (name.Length == 0 || name is "." or ".." || name.Any(char.IsControl))
        {
            return new SysfsLink(target, null, resolves, $"{absolute} -> '{Printable(target)}' has no usable last component");
        }

        return new SysfsLink(target, name, resolves, resolves ? null : $"{absolute} -> {Printable(target)} does not resolve (a broken link)");
    }

    private static bool IsLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The names in a directory, sorted ordinally; empty when it is missing or unreadable.</summary>
    public IReadOnlyList<string> List(string absolute) => TryList(absolute, out IReadOnlyList<string> names, out _) ? names : [];

    /// <summary>The names in a directory, sorted ordinally, or false with the problem.</summary>
    public bool TryList(string absolute, out IReadOnlyList<string> names, out string? problem)
    {
        string path = Path(absolute);
        try
        {
            var list = new List<string>();
            foreach (string entry in Directory.EnumerateFileSystemEntries(path))
            {
                list.Add(System.IO.Path.GetFileName(entry));
            }

            list.Sort(StringComparer.Ordinal);
            names = list;
            problem = null;
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            names = [];
            problem = $"{absolute} does not exist";
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            names = [];
            problem = $"{absolute} cannot be listed: {e.Message}";
            return false;
        }
    }

    /// <summary>The last component of a path ("../../bus/pci" gives "pci"), ignoring trailing slashes.</summary>
    public static string BaseName(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    /// <summary>Text from a file or link made safe for one log line: control characters become '?', at most 80 characters.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(Math.Min(text.Length, 81));
        foreach (char c in text)
        {
            if (sb.Length == 80)
            {
                sb.Append('…');
                break;
            }

            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }
}
