namespace Hyperlane.Linux.Netlink;

/// <summary>
/// Subscribes to RTNLGRP_LINK in the network namespace of the thread that creates it; a background thread
/// reads the notifications and raises <see cref="LinkChanged"/>. Links that exist when the monitor starts
/// are known, so a later RTM_NEWLINK for them is <see cref="LinkEventKind.Changed"/>, for others
/// <see cref="LinkEventKind.New"/>. Handler exceptions are caught and counted, never thrown out of the thread.
/// </summary>
public sealed unsafe class LinkMonitor : IDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly EventFd _stop;
    private readonly Thread _thread;
    private readonly HashSet<int> _known = [];
    private readonly List<NetlinkMessage> _messages = [];
    private readonly Lock _processGate = new();
    private byte[] _receive = new byte[64 * 1024];
    private long _events;
    private long _handlerFailures;
    private long _malformed;
    private long _overruns;
    private int _disposed;
    private bool _closeOnExit;

    public LinkMonitor()
    {
        // Subscribe first, then list what exists: a link created in between is then seen at least once.
        _socket = new NetlinkSocket(Nl.RTMGRP_LINK, receiveBuffer: 1 << 20);
        try
        {
            _stop = new EventFd();
            try
            {
                Resync();
                _thread = new Thread(Run) { IsBackground = true, Name = "hl-linkmon" };
                _thread.Start();
            }
            catch
            {
                _stop.Dispose();
                throw;
            }
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>Raised on the monitor's thread.</summary>
    public event EventHandler<LinkEventArgs>? LinkChanged;

    /// <summary>Link events raised so far.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Handler invocations that threw.</summary>
    public long HandlerFailures => Interlocked.Read(ref _handlerFailures);

    /// <summary>Notifications that failed validation and were skipped.</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformed);

    /// <summary>Times the socket overflowed (ENOBUFS): notifications were lost (no resync is done).</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _ = _stop.Signal();
        if (Thread.CurrentThread == _thread)
        {
            // Disposed from a handler: the loop closes the socket when it unwinds.
            _closeOnExit = true;
            return;
        }

        _thread.Join();
        _socket.Dispose();
        _stop.Dispose();
    }

    /// <summary>Turns one datagram of notifications into events (also the test entry point for crafted bytes).</summary>
    internal void Process(ReadOnlySpan<byte> datagram)
    {
        lock (_processGate)
        {
            ProcessLocked(datagram);
        }
    }

    private void ProcessLocked(ReadOnlySpan<byte> datagram)
    {
        _messages.Clear();
        Interlocked.Add(ref _malformed, NetlinkParser.Split(datagram, _messages));
        foreach (NetlinkMessage message in _messages)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            if (message.Type is not (Nl.RTM_NEWLINK or Nl.RTM_DELLINK))
            {
                continue;
            }

            if (NetlinkParser.ParseLink(message.Payload(datagram), out LinkInfo? link, out _) != NetlinkParseStatus.Ok || link is null)
            {
                Interlocked.Increment(ref _malformed);
                continue;
            }

            LinkEventKind kind;
            if (message.Type == Nl.RTM_DELLINK)
            {
                _known.Remove(link.Index);
                kind = LinkEventKind.Deleted;
            }
            else
            {
                kind = _known.Add(link.Index) ? LinkEventKind.New : LinkEventKind.Changed;
            }

            Raise(new LinkEventArgs(kind, link.Index, link.Name, link.IsUp, link.HasCarrier));
        }
    }

    private void Raise(LinkEventArgs args)
    {
        Interlocked.Increment(ref _events);
        EventHandler<LinkEventArgs>? handlers = LinkChanged;
        if (handlers is null)
        {
            return;
        }

        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<LinkEventArgs>)handler)(this, args);
            }
#pragma warning disable CA1031 // a subscriber's failure must not stop the monitor; it is counted
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _handlerFailures);
            }
        }
    }

    /// <summary>Lists the links that exist now (in this namespace: the socket's own).</summary>
    private void Resync()
    {
        // A separate request socket, opened on the constructor's thread, hence in the same namespace.
        using var rt = new RtNetlink();
        _known.Clear();
        foreach (LinkInfo link in rt.DumpLinks())
        {
            _known.Add(link.Index);
        }
    }

    private void Run()
    {
        try
        {
            Loop();
        }
        finally
        {
            if (Volatile.Read(ref _disposed) != 0 && Thread.CurrentThread == _thread && _closeOnExit)
            {
                _socket.Dispose();
                _stop.Dispose();
            }
        }
    }

    private void Loop()
    {
        PollFd* polls = stackalloc PollFd[2];
        while (Volatile.Read(ref _disposed) == 0)
        {
            polls[0] = new PollFd { Fd = _socket.Fd, Events = Syscalls.POLLIN };
            polls[1] = new PollFd { Fd = _stop.Handle.Fd, Events = Syscalls.POLLIN };
            SysResult ready = Syscalls.Poll(polls, 2, -1);
            if (!ready.IsSuccess || polls[1].Revents != 0)
            {
                if (ready.Error == Errno.EINTR)
                {
                    continue;
                }

                return;
            }

            while (true)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    return;
                }

                SysResult r = _socket.Receive(ref _receive);
                if (r.IsSuccess)
                {
                    Process(_receive.AsSpan(0, (int)r.Value));
                    continue;
                }

                if ((int)r.Error == Nl.ENOBUFS)
                {
                    Interlocked.Increment(ref _overruns);
                    continue;
                }

                break;
            }
        }
    }
}
