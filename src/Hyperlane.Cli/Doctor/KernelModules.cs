using System.IO.Compression;
using System.Text;
using Hyperlane.Net.VdevNetvsc;

namespace Hyperlane.Cli.Doctor;

/// <summary>
/// Tells whether a kernel feature is built in, loaded, installed as a module or missing, from files only
/// (read through the doctor's root): <c>/sys/module/M/initstate</c> (a loaded module),
/// <c>/lib/modules/RELEASE/modules.builtin</c> and <c>modules.dep</c>, <c>/sys/module/M</c> without
/// initstate (built in, with parameters), and the kernel configuration (<c>/proc/config.gz</c> or
/// <c>/boot/config-RELEASE</c>). Nothing is loaded or changed.
/// </summary>
public sealed class KernelModules
{
    private const int MaxListBytes = 16 << 20;

    private readonly SysfsTree _tree;
    private readonly string? _release;
    private readonly Lazy<(string? Text, string Source)> _builtin;
    private readonly Lazy<(string? Text, string Source)> _dep;
    private readonly Lazy<(string? Text, string Source)> _config;

    public KernelModules(SysfsTree tree, string? release)
    {
        ArgumentNullException.ThrowIfNull(tree);
        _tree = tree;
        _release = IsRelease(release) ? release : null;
        _builtin = new(() => ReadModulesFile("modules.builtin"));
        _dep = new(() => ReadModulesFile("modules.dep"));
        _config = new(ReadConfig);
    }

    /// <summary>Where <paramref name="module"/> (configured by <paramref name="configSymbol"/>) stands.</summary>
    public KernelFeature Probe(string module, string purpose, string configSymbol)
    {
        ArgumentException.ThrowIfNullOrEmpty(module);
        string name = NormalizeName(module);
        string sysModule = $"/sys/module/{name}";
        if (_tree.ReadAttribute(sysModule + "/initstate").Value is { } state)
        {
            return state == "live"
                ? new KernelFeature(module, purpose, ModuleState.Loaded, $"{sysModule}/initstate is live")
                : new KernelFeature(module, purpose, ModuleState.Available, $"{sysModule}/initstate is {SysfsTree.Printable(state)}");
        }

        (string? builtin, string builtinSource) = _builtin.Value;
        if (builtin is not null && ListContains(builtin, name))
        {
            return new KernelFeature(module, purpose, ModuleState.Builtin, $"listed in {builtinSource}");
        }

        if (_tree.DirectoryExists(sysModule))
        {
            return new KernelFeature(module, purpose, ModuleState.Builtin, $"{sysModule} without initstate (built in)");
        }

        (string? dep, string depSource) = _dep.Value;
        if (dep is not null && ListContains(dep, name))
        {
            return new KernelFeature(module, purpose, ModuleState.Available, $"listed in {depSource}");
        }

        (string? config, string configSource) = _config.Value;
        char? value = config is null ? null : ConfigValue(config, configSymbol);
        switch (value)
        {
            case 'y':
                return new KernelFeature(module, purpose, ModuleState.Builtin, $"{configSymbol}=y in {configSource}");
            case 'm':
                return new KernelFeature(module, purpose, ModuleState.Missing, $"{configSymbol}=m in {configSource}, but the module is not installed{(dep is null ? " (no modules.dep)" : string.Empty)}");
            case 'n':
                return new KernelFeature(module, purpose, ModuleState.Missing, $"{configSymbol} is not set in {configSource}");
        }

        if (builtin is null && dep is null && config is null)
        {
            return new KernelFeature(module, purpose, ModuleState.Unknown, $"no /sys/module/{name}, {(_release is null ? "kernel release unknown" : $"no /lib/modules/{_release}/modules.*")}, no kernel config");
        }

        var searched = new List<string>();
        if (builtin is not null)
        {
            searched.Add("not in " + builtinSource);
        }

        if (dep is not null)
        {
            searched.Add("not in " + depSource);
        }

        if (config is not null)
        {
            searched.Add($"{configSymbol} absent from {configSource}");
        }

        return new KernelFeature(module, purpose, ModuleState.Missing, string.Join("; ", searched));
    }

    /// <summary>Whether <paramref name="release"/> can be a kernel release (uname -r) used as a directory name.</summary>
    public static bool IsRelease(string? release) =>
        !string.IsNullOrEmpty(release) && release.Length <= 64 && release is not ("." or "..")
        && !release.Contains('/', StringComparison.Ordinal) && !release.Any(c => char.IsControl(c) || char.IsWhiteSpace(c));

    /// <summary>Module names treat '-' and '_' alike; the kernel shows '_'.</summary>
    public static string NormalizeName(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.Replace('-', '_');
    }

    /// <summary>
    /// Whether a modules.builtin or modules.dep text lists <paramref name="module"/>: a line whose path (before
    /// any ':') ends in "/module.ko", optionally compressed (.ko.xz, .ko.zst, .ko.gz).
    /// </summary>
    public static bool ListContains(string text, string module)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(module);
        string wanted = NormalizeName(module);
        foreach (ReadOnlySpan<char> raw in text.AsSpan().EnumerateLines())
        {
            ReadOnlySpan<char> line = raw;
            int colon = line.IndexOf(':');
            if (colon >= 0)
            {
                line = line[..colon];
            }

            line = line.Trim();
            int slash = line.LastIndexOf('/');
            ReadOnlySpan<char> file = slash >= 0 ? line[(slash + 1)..] : line;
            int ko = file.IndexOf(".ko", StringComparison.Ordinal);
            if (ko <= 0)
            {
                continue;
            }

            ReadOnlySpan<char> rest = file[ko..];
            if (rest is not (".ko" or ".ko.xz" or ".ko.zst" or ".ko.gz"))
            {
                continue;
            }

            if (NormalizeName(file[..ko].ToString()) == wanted)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>'y', 'm' or 'n' for <paramref name="symbol"/> in a kernel .config text; null when it is not mentioned.</summary>
    public static char? ConfigValue(string text, string symbol)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(symbol);
        string set = symbol + "=";
        string unset = $"# {symbol} is not set";
        foreach (ReadOnlySpan<char> raw in text.AsSpan().EnumerateLines())
        {
            ReadOnlySpan<char> line = raw.Trim();
            if (line.StartsWith(set, StringComparison.Ordinal))
            {
                ReadOnlySpan<char> v = line[set.Length..];
                return v is "y" ? 'y' : v is "m" ? 'm' : 'n';
            }

            if (line.SequenceEqual(unset))
            {
                return 'n';
            }
        }

        return null;
    }

    private (string? Text, string Source) ReadModulesFile(string file)
    {
        if (_release is null)
        {
            return (null, file);
        }

        string absolute = $"/lib/modules/{_release}/{file}";
        return (ReadCapped(_tree.Path(absolute), gzip: false), absolute);
    }

    private (string? Text, string Source) ReadConfig()
    {
        string? text = ReadCapped(_tree.Path("/proc/config.gz"), gzip: true);
        if (text is not null)
        {
            return (text, "/proc/config.gz");
        }

        if (_release is not null)
        {
            string boot = $"/boot/config-{_release}";
            text = ReadCapped(_tree.Path(boot), gzip: false);
            if (text is not null)
            {
                return (text, boot);
            }
        }

        return (null, "kernel config");
    }

    /// <summary>Reads a text file (optionally gzip) of at most 16 MiB; null when absent, unreadable, too large or corrupt.</summary>
    private static string? ReadCapped(string path, bool gzip)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            using Stream source = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var memory = new MemoryStream();
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = source.Read(buffer)) > 0)
            {
                if (memory.Length + n > MaxListBytes)
                {
                    return null;
                }

                memory.Write(buffer, 0, n);
            }

            return Encoding.UTF8.GetString(memory.GetBuffer(), 0, (int)memory.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }
}
