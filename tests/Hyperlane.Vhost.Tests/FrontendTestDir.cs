namespace Hyperlane.Vhost.Tests;

/// <summary>A private temporary directory for vhost-user sockets, removed afterwards.</summary>
internal sealed class FrontendTestDir : IDisposable
{
    public FrontendTestDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hl-fe-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

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
