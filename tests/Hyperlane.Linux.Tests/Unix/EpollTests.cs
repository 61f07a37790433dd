using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary><see cref="Epoll"/> with eventfds and Unix sockets: readiness, tags, hang-ups, registration changes.</summary>
public class EpollTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void A_signalled_eventfd_is_reported_readable_with_its_data()
    {
        using var epoll = new Epoll();
        using var kick = new EventFd();
        using var other = new EventFd();
        epoll.Add(kick.Handle, EpollEvents.In, 0xDEADBEEF_CAFEF00DUL);
        epoll.Add(other.Handle, EpollEvents.In, 2);
        Span<EpollEvent> events = stackalloc EpollEvent[8];
        Assert.Equal(0, epoll.Wait(events, 0));

        Assert.True(kick.Signal().IsSuccess);
        Assert.Equal(1, epoll.Wait(events, 1000));
        Assert.Equal(0xDEADBEEF_CAFEF00DUL, events[0].Data);
        Assert.True(events[0].Events.HasFlag(EpollEvents.In));

        Assert.True(kick.TryRead(out ulong value).IsSuccess);
        Assert.Equal(1UL, value);
        Assert.Equal(0, epoll.Wait(events, 0));
    }

    [Fact]
    public void Wait_returns_zero_after_the_timeout_when_nothing_is_ready()
    {
        using var epoll = new Epoll();
        using var idle = new EventFd();
        epoll.Add(idle.Handle.Fd, EpollEvents.In, 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, epoll.Wait(stackalloc EpollEvent[1], 100));
        Assert.True(clock.ElapsedMilliseconds >= 90, $"returned after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void A_socket_whose_peer_closes_reports_RdHup_and_Hup()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        {
            using var epoll = new Epoll();
            epoll.Add(a.Handle, EpollEvents.In | EpollEvents.RdHup, 7);
            Span<EpollEvent> events = stackalloc EpollEvent[4];
            Assert.Equal(0, epoll.Wait(events, 0));

            b.Dispose();
            Assert.Equal(1, epoll.Wait(events, 1000));
            Assert.Equal(7UL, events[0].Data);
            Assert.True(events[0].Events.HasFlag(EpollEvents.RdHup), events[0].Events.ToString());
            Assert.True(events[0].Events.HasFlag(EpollEvents.Hup), events[0].Events.ToString());
            Assert.Equal(0, a.Receive(new byte[4], [], 0, Timeout));
        }
    }

    [Fact]
    public void A_socket_with_data_queued_reports_In_with_its_data()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            using var epoll = new Epoll();
            b.IsNonBlocking = true;
            epoll.Add(b.Handle, EpollEvents.In | EpollEvents.RdHup, 42);
            a.Send([1, 2, 3], Timeout);
            Span<EpollEvent> events = stackalloc EpollEvent[4];
            Assert.Equal(1, epoll.Wait(events, 1000));
            Assert.Equal(new EpollEvent(EpollEvents.In, 42), events[0]);
        }
    }

    [Fact]
    public void Modify_changes_the_data_and_Remove_stops_the_reports()
    {
        using var epoll = new Epoll();
        using var e = new EventFd(1);
        epoll.Add(e.Handle, EpollEvents.In, 1);
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        Assert.Equal(1, epoll.Wait(events, 0));
        Assert.Equal(1UL, events[0].Data);

        epoll.Modify(e.Handle, EpollEvents.In, 99);
        Assert.Equal(1, epoll.Wait(events, 0));
        Assert.Equal(99UL, events[0].Data);

        epoll.Remove(e.Handle);
        Assert.Equal(0, epoll.Wait(events, 0));

        var notThere = Assert.Throws<LinuxException>(() => epoll.Remove(e.Handle));
        Assert.Equal(Errno.ENOENT, notThere.Error);
    }

    [Fact]
    public void Adding_a_descriptor_twice_fails_with_EEXIST_naming_it()
    {
        using var epoll = new Epoll();
        using var e = new EventFd();
        epoll.Add(e.Handle, EpollEvents.In, 1);
        var ex = Assert.Throws<LinuxException>(() => epoll.Add(e.Handle, EpollEvents.In, 1));
        Assert.Equal(Errno.EEXIST, ex.Error);
        Assert.Contains($"fd {e.Handle.Fd}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_edge_triggered_eventfd_reports_each_signal_once()
    {
        using var epoll = new Epoll();
        using var e = new EventFd();
        epoll.Add(e.Handle, EpollEvents.In | EpollEvents.Et, 5);
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        e.Signal();
        Assert.Equal(1, epoll.Wait(events, 1000));
        Assert.Equal(0, epoll.Wait(events, 0)); // still readable, but no new edge
        e.Signal();
        Assert.Equal(1, epoll.Wait(events, 1000));
    }

    [Fact]
    public void An_eventfd_received_from_a_peer_signals_the_senders_counter()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            using var call = new EventFd();
            a.Send([1], [call.Handle.Fd], Timeout, "VHOST_USER_SET_VRING_CALL");
            var received = new List<SafeFd>();
            b.Receive(new byte[1], received, 1, Timeout);
            using EventFd peerCall = EventFd.FromDescriptor(Assert.Single(received));
            Assert.NotEqual(call.Handle.Fd, peerCall.Handle.Fd);

            using var epoll = new Epoll();
            epoll.Add(call.Handle, EpollEvents.In, 3);
            Assert.True(peerCall.Signal(5).IsSuccess);
            Span<EpollEvent> events = stackalloc EpollEvent[1];
            Assert.Equal(1, epoll.Wait(events, 1000));
            Assert.True(call.TryRead(out ulong value).IsSuccess);
            Assert.Equal(5UL, value);
        }
    }

    [Fact]
    public void FromDescriptor_refuses_a_closed_descriptor()
    {
        var fd = new SafeFd(-1);
        Assert.Throws<ArgumentException>(() => EventFd.FromDescriptor(fd));
    }
}
