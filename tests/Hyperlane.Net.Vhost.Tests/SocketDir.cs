namespace Hyperlane.Net.Vhost.Tests;

/// <summary>A private temporary directory for a test's vhost-user sockets, removed (with whatever is left in it) afterwards.</summary>
internal sealed class SocketDir : IDisposable
{
    public SocketDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hl-nv-" + Guid.NewGuid().ToString("N")[..12]);
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
