using System.Diagnostics;
using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>Timeouts, end of stream and partial messages on <see cref="UnixStreamSocket"/>.</summary>
public class UnixReceiveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void Receive_throws_TimeoutException_naming_what_it_waited_for_when_nothing_arrives()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<TimeoutException>(() => b.Receive(new byte[8], [], 4, TimeSpan.FromMilliseconds(150), "the reply header"));
            Assert.True(clock.ElapsedMilliseconds >= 140, $"gave up after {clock.ElapsedMilliseconds} ms");
            Assert.Contains("the reply header", e.Message, StringComparison.Ordinal);
            Assert.Contains("150 ms", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Receive_with_a_zero_timeout_reads_what_is_queued_without_waiting()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            Assert.Throws<TimeoutException>(() => b.Receive(new byte[8], [], 0, TimeSpan.Zero));
            a.Send([9, 8], Timeout);
            byte[] got = new byte[8];
            Assert.Equal(2, b.Receive(got, [], 0, TimeSpan.Zero));
            Assert.Equal([9, 8], got[..2]);
        }
    }

    [Fact]
    public void Receive_returns_zero_when_the_peer_closes()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (b)
        {
            a.Dispose();
            Assert.Equal(0, b.Receive(new byte[8], [], 4, Timeout));
        }
    }

    [Fact]
    public void Receive_waits_for_data_sent_later_by_another_thread()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            var t = new Thread(() =>
            {
                Thread.Sleep(100);
                a.Send([1, 2, 3], Timeout);
            });
            t.Start();
            byte[] got = new byte[3];
            b.ReceiveExact(got, Timeout);
            Assert.Equal([1, 2, 3], got);
            Assert.True(t.Join(Timeout));
        }
    }

    [Fact]
    public void ReceiveExact_throws_EndOfStream_when_the_peer_closes_mid_message()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (b)
        {
            a.Send([1, 2, 3], Timeout);
            a.Dispose();
            var e = Assert.Throws<EndOfStreamException>(() => b.ReceiveExact(new byte[8], Timeout, "the payload of VHOST_USER_SET_VRING_ADDR"));
            Assert.Contains("3 of the 8 bytes", e.Message, StringComparison.Ordinal);
            Assert.Contains("VHOST_USER_SET_VRING_ADDR", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReceiveExact_gathers_a_message_sent_in_pieces()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            var t = new Thread(() =>
            {
                a.Send([1, 2], Timeout);
                Thread.Sleep(30);
                a.Send([3, 4, 5], Timeout);
                Thread.Sleep(30);
                a.Send([6], Timeout);
            });
            t.Start();
            byte[] got = new byte[6];
            b.ReceiveExact(got, Timeout);
            Assert.Equal([1, 2, 3, 4, 5, 6], got);
            Assert.True(t.Join(Timeout));
        }
    }

    [Fact]
    public void ReceiveExact_times_out_saying_how_much_arrived()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            a.Send([1, 2], Timeout);
            var e = Assert.Throws<TimeoutException>(() => b.ReceiveExact(new byte[5], TimeSpan.FromMilliseconds(100), "the payload"));
            Assert.Contains("2 of 5 bytes", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Send_times_out_naming_what_it_sent_when_the_peer_does_not_read()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            byte[] blob = new byte[16 << 20];
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<TimeoutException>(() => a.Send(blob, TimeSpan.FromMilliseconds(200), "a 16 MiB blob"));
            Assert.True(clock.ElapsedMilliseconds >= 190, $"gave up after {clock.ElapsedMilliseconds} ms");
            Assert.Contains("a 16 MiB blob", e.Message, StringComparison.Ordinal);
            Assert.Contains("the peer is not reading", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Send_to_a_closed_peer_fails_with_EPIPE_instead_of_a_signal()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        {
            b.Dispose();
            var e = Assert.Throws<LinuxException>(() => a.Send([1, 2, 3], Timeout, "a reply"));
            Assert.Equal(Errno.EPIPE, e.Error);
            Assert.Contains("a reply", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Calls_on_a_disposed_socket_throw_ObjectDisposedException()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        b.Dispose();
        a.Dispose();
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.Send([1], Timeout));
        Assert.Throws<ObjectDisposedException>(() => a.Receive(new byte[1], [], 0, Timeout));
        Assert.Throws<ObjectDisposedException>(() => a.IsNonBlocking);
    }

    [Fact]
    public void IsNonBlocking_sets_and_clears_O_NONBLOCK()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            Assert.False(a.IsNonBlocking);
            a.IsNonBlocking = true;
            Assert.True(a.IsNonBlocking);
            Assert.Equal(Syscalls.O_NONBLOCK, LibC.fcntl(a.Fd, Syscalls.F_GETFL, 0) & Syscalls.O_NONBLOCK);

            // Send and Receive keep their timeouts whatever the flag says.
            a.Send([5], Timeout);
            Assert.Equal(1, b.Receive(new byte[1], [], 0, Timeout));
            a.IsNonBlocking = false;
            Assert.False(a.IsNonBlocking);
        }
    }

    [Fact]
    public void Peer_credentials_of_a_socketpair_are_this_process()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            PeerCredentials c = a.GetPeerCredentials();
            Assert.Equal(Environment.ProcessId, c.ProcessId);
            Assert.Equal(LibC.geteuid(), c.UserId);
        }
    }
}
