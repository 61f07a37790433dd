namespace Hyperlane.Linux.Tests.Unix;

/// <summary>A unique, short temporary directory for socket files; removed with everything in it on Dispose.</summary>
public sealed class UnixTestDirectory : IDisposable
{
    public UnixTestDirectory()
    {
        // Socket paths must fit sun_path (108 bytes): fall back to /tmp when $TMPDIR is long.
        Path = Directory.CreateTempSubdirectory("hl-unix-").FullName;
        if (Path.Length > 60)
        {
            Directory.Delete(Path);
            Path = System.IO.Path.Combine("/tmp", "hl-unix-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(Path);
        }
    }

    public string Path { get; }

    /// <summary>A path inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
