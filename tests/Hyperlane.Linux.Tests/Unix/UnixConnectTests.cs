using System.Diagnostics;
using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// <see cref="UnixStreamSocket.Connect"/> waits for a server that is not there yet (vhost-user client
/// mode) and gives up clearly when none comes.
/// </summary>
public sealed class UnixConnectTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly UnixTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Connect_retries_until_a_server_appears()
    {
        string path = _dir.File("late.sock");
        Exception? serverError = null;
        var server = new Thread(() =>
        {
            try
            {
                Thread.Sleep(200);
                using var listener = UnixStreamSocket.Listen(path);
                using UnixStreamSocket? s = listener.Accept(Timeout);
                Assert.NotNull(s);
                byte[] b = new byte[4];
                s.ReceiveExact(b, Timeout);
                s.Send(b, Timeout);
            }
            catch (Exception e)
            {
                serverError = e;
            }
        });
        server.Start();

        var clock = Stopwatch.StartNew();
        using var client = UnixStreamSocket.Connect(path, Timeout);
        Assert.True(clock.ElapsedMilliseconds >= 150, $"connected after {clock.ElapsedMilliseconds} ms, before the server existed");
        Assert.Equal(path, client.Path);
        client.Send([4, 3, 2, 1], Timeout);
        byte[] echo = new byte[4];
        client.ReceiveExact(echo, Timeout);
        Assert.Equal([4, 3, 2, 1], echo);
        Assert.True(server.Join(Timeout));
        Assert.Null(serverError);
    }

    [Fact]
    public void Connect_times_out_naming_the_path_when_no_server_appears()
    {
        string path = _dir.File("nobody.sock");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<TimeoutException>(() => UnixStreamSocket.Connect(path, TimeSpan.FromMilliseconds(300)));
        Assert.InRange(clock.ElapsedMilliseconds, 290, 3000);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("ENOENT", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_to_a_stale_socket_times_out_with_ECONNREFUSED()
    {
        string path = _dir.File("stale.sock");
        using var dead = UnixStreamSocket.Listen(path);
        dead.Handle.Dispose();
        var e = Assert.Throws<TimeoutException>(() => UnixStreamSocket.Connect(path, TimeSpan.FromMilliseconds(100)));
        Assert.Contains("ECONNREFUSED", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryConnect_reports_ENOENT_without_a_file_and_succeeds_with_a_listener()
    {
        string path = _dir.File("try.sock");
        Assert.False(UnixStreamSocket.TryConnect(path, out UnixStreamSocket? none, out Errno error));
        Assert.Null(none);
        Assert.Equal(Errno.ENOENT, error);

        using var listener = UnixStreamSocket.Listen(path);
        Assert.True(UnixStreamSocket.TryConnect(path, out UnixStreamSocket? s, out error));
        using (s)
        {
            Assert.Equal(Errno.None, error);
            Assert.NotNull(s);
            using UnixStreamSocket? accepted = listener.Accept(Timeout);
            Assert.NotNull(accepted);
        }
    }

    [Fact]
    public void Connect_to_something_that_is_not_a_socket_fails_at_once()
    {
        string path = _dir.File("plain-file");
        File.WriteAllText(path, "x");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<LinuxException>(() => UnixStreamSocket.Connect(path, Timeout));
        Assert.True(clock.ElapsedMilliseconds < 2000);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a socket", e.Message, StringComparison.Ordinal);
    }
}
