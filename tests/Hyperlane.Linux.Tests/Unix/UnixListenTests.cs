using System.Diagnostics;
using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// <see cref="UnixStreamSocket.Listen"/> and <see cref="UnixStreamSocket.Accept"/>: stale socket files are
/// replaced, live ones and other files are refused and left alone, Dispose removes the listener's file.
/// </summary>
public sealed class UnixListenTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly UnixTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Listen_replaces_a_stale_socket_file_left_by_a_dead_listener()
    {
        string path = _dir.File("stale.sock");
        var dead = UnixStreamSocket.Listen(path);
        dead.Handle.Dispose(); // the process "crashed": descriptor gone, socket file left behind
        Assert.True(File.Exists(path));
        Assert.True(UnixStreamSocket.TryConnect(path, out _, out Errno refused) is false && refused == Errno.ECONNREFUSED);

        using var listener = UnixStreamSocket.Listen(path);
        using var client = UnixStreamSocket.Connect(path, Timeout);
        using UnixStreamSocket? server = listener.Accept(Timeout);
        Assert.NotNull(server);
        client.Send([1, 2, 3], Timeout);
        byte[] got = new byte[3];
        server.ReceiveExact(got, Timeout);
        Assert.Equal([1, 2, 3], got);

        dead.Dispose(); // must not unlink the new listener's file: it is another inode now
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Listen_where_a_live_listener_is_fails_saying_the_path_is_in_use()
    {
        string path = _dir.File("live.sock");
        using var live = UnixStreamSocket.Listen(path);
        var e = Assert.Throws<LinuxException>(() => UnixStreamSocket.Listen(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("is in use", e.Message, StringComparison.Ordinal);

        // The live listener is untouched: its file is there and it still accepts.
        Assert.True(File.Exists(path));
        using var client = UnixStreamSocket.Connect(path, Timeout);
        using UnixStreamSocket? server = live.Accept(Timeout);
        Assert.NotNull(server);
    }

    [Fact]
    public void Listen_on_a_regular_file_fails_and_leaves_the_file()
    {
        string path = _dir.File("not-a-socket");
        File.WriteAllText(path, "keep me");
        var e = Assert.Throws<LinuxException>(() => UnixStreamSocket.Listen(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    [Fact]
    public void Listen_in_a_missing_directory_fails_naming_the_path_and_ENOENT()
    {
        string path = _dir.File("missing/dir.sock");
        var e = Assert.Throws<LinuxException>(() => UnixStreamSocket.Listen(path));
        Assert.Equal(Errno.ENOENT, e.Error);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_of_a_listener_removes_its_socket_file()
    {
        string path = _dir.File("gone.sock");
        var listener = UnixStreamSocket.Listen(path);
        Assert.True(listener.IsListener);
        Assert.Equal(path, listener.Path);
        Assert.True(File.Exists(path));
        listener.Dispose();
        Assert.False(File.Exists(path));
        listener.Dispose();
    }

    [Fact]
    public void Dispose_of_a_listener_leaves_a_file_someone_else_put_at_its_path()
    {
        string path = _dir.File("replaced.sock");
        var listener = UnixStreamSocket.Listen(path);
        File.Delete(path);
        File.WriteAllText(path, "other");
        listener.Dispose();
        Assert.Equal("other", File.ReadAllText(path));
    }

    [Fact]
    public void Listen_rejects_a_path_longer_than_sun_path_naming_it_and_accepts_the_longest_that_fits()
    {
        string prefix = _dir.Path + "/";
        string fits = prefix + new string('a', 107 - prefix.Length);
        string tooLong = fits + "b";
        Assert.Equal(107, fits.Length);

        var e = Assert.Throws<ArgumentException>(() => UnixStreamSocket.Listen(tooLong));
        Assert.Contains(tooLong, e.Message, StringComparison.Ordinal);
        Assert.Contains("108 bytes", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => UnixStreamSocket.Connect(tooLong, Timeout));
        Assert.False(File.Exists(tooLong));

        using var listener = UnixStreamSocket.Listen(fits);
        using var client = UnixStreamSocket.Connect(fits, Timeout);
        using UnixStreamSocket? accepted = listener.Accept(Timeout);
        Assert.NotNull(accepted);
    }

    [Fact]
    public void Listen_rejects_empty_paths_and_paths_with_NUL()
    {
        Assert.Throws<ArgumentException>(() => UnixStreamSocket.Listen(string.Empty));
        Assert.Throws<ArgumentException>(() => UnixStreamSocket.Listen(_dir.File("a\0b")));
    }

    [Fact]
    public void Accept_returns_null_when_no_client_connects_in_time()
    {
        using var listener = UnixStreamSocket.Listen(_dir.File("idle.sock"));
        var clock = Stopwatch.StartNew();
        Assert.Null(listener.Accept(TimeSpan.FromMilliseconds(150)));
        Assert.True(clock.ElapsedMilliseconds >= 140, $"gave up after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Accepted_sockets_are_blocking_and_know_their_peer()
    {
        string path = _dir.File("peer.sock");
        using var listener = UnixStreamSocket.Listen(path);
        Assert.True(listener.IsNonBlocking);
        using var client = UnixStreamSocket.Connect(path, Timeout);
        using UnixStreamSocket? server = listener.Accept(Timeout);
        Assert.NotNull(server);
        Assert.False(server.IsNonBlocking);
        Assert.False(client.IsNonBlocking);
        Assert.Equal(Environment.ProcessId, server.GetPeerCredentials().ProcessId);
    }
}
