namespace Hyperlane.Testing;

/// <summary>A private temporary directory for a test's vhost-user sockets, removed (with whatever is left in it) afterwards.</summary>
public sealed class TempSocketDir : IDisposable
{
    /// <summary>Creates the directory under the temp path, named <paramref name="prefix"/> and a random suffix.</summary>
    public TempSocketDir(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The socket path tests use by default.</summary>
    public string Socket => System.IO.Path.Combine(Path, "vhost.sock");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
