using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// An AF_UNIX SOCK_STREAM socket that carries bytes and file descriptors (SCM_RIGHTS), as vhost-user uses
/// it: a listener bound to a filesystem path, a client connecting to one, or one end of a socketpair.
/// Every wait has a timeout; descriptors received from the peer are owned (<see cref="SafeFd"/>) and never
/// leak, whatever the peer sends.
/// </summary>
/// <remarks>
/// Send and Receive work the same whether or not <see cref="IsNonBlocking"/> is set: each call is
/// non-blocking (MSG_DONTWAIT) and waits with poll(2) for the rest of its timeout, so the flag only
/// matters to callers that read the descriptor themselves (an epoll loop). Listeners are non-blocking.
/// One thread sends and one thread receives at a time; <see cref="Dispose"/> must not race with them.
/// </remarks>
public sealed unsafe class UnixStreamSocket : IDisposable
{
    /// <summary>Bytes of sun_path (sys/un.h), including the terminating NUL.</summary>
    public const int SunPathSize = 108;

    /// <summary>The most descriptors one message may carry (SCM_MAX_FD, include/net/scm.h).</summary>
    public const int MaxFileDescriptors = ControlMessages.MaxDescriptors;

    private const int SockaddrUnSize = 2 + SunPathSize; // sa_family_t sun_family; char sun_path[108]
    private const int SHUT_RDWR = 2;
    private const int RetryConnectMilliseconds = 50;

    private readonly SafeFd _fd;
    private readonly Statx _listenFile; // the socket file a listener created, unlinked on Dispose if still there
    private int _disposed;

    private UnixStreamSocket(SafeFd fd, string? path, bool isListener, in Statx listenFile)
    {
        _fd = fd;
        Path = path;
        IsListener = isListener;
        _listenFile = listenFile;
    }

    /// <summary>The owned descriptor (for epoll registration, or fd-level calls this type lacks).</summary>
    public SafeFd Handle => _fd;

    /// <summary>The raw descriptor number. Valid only until <see cref="Dispose"/>.</summary>
    public int Fd => _fd.Fd;

    /// <summary>The filesystem path a listener is bound to or a client connected to; null for accepted and socketpair sockets.</summary>
    public string? Path { get; }

    /// <summary>True for a socket made by <see cref="Listen"/>.</summary>
    public bool IsListener { get; }

    /// <summary>O_NONBLOCK on the open file (fcntl F_GETFL/F_SETFL).</summary>
    public bool IsNonBlocking
    {
        get => (GetStatusFlags() & Syscalls.O_NONBLOCK) != 0;
        set
        {
            int flags = GetStatusFlags();
            int wanted = value ? flags | Syscalls.O_NONBLOCK : flags & ~Syscalls.O_NONBLOCK;
            if (wanted != flags && LibC.fcntl(_fd.Fd, Syscalls.F_SETFL, wanted) < 0)
            {
                throw LinuxException.FromLastError($"fcntl(F_SETFL) on unix socket {Describe()}");
            }
        }
    }

    /// <summary>
    /// Creates a listening socket bound to <paramref name="path"/>. A socket file left by a process that
    /// died (nobody accepts on it: connect gives ECONNREFUSED) is replaced (DPDK 22.11 refuses and asks for it to
    /// be removed; a crashed switch restarting on its old path is the common case); a socket someone
    /// listens on, or a path that is not a socket, is left alone and reported.
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, contains NUL or does not fit sun_path.</exception>
    /// <exception cref="LinuxException">The path is in use, is not a socket, or a system call failed.</exception>
    public static UnixStreamSocket Listen(string path, int backlog = 16)
    {
        byte* address = stackalloc byte[SockaddrUnSize];
        int addressLength = BuildAddress(path, address);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backlog);

        RemoveStaleSocket(path, address, addressLength);

        int raw = LibC.socket(Syscalls.AF_UNIX, Syscalls.SOCK_STREAM | Syscalls.SOCK_CLOEXEC | Syscalls.SOCK_NONBLOCK, 0);
        if (raw < 0)
        {
            throw LinuxException.FromLastError($"socket(AF_UNIX) to listen on {path}");
        }

        var fd = new SafeFd(raw);
        bool bound = false;
        Statx created = default;
        try
        {
            if (LibC.bind(raw, address, (uint)addressLength) != 0)
            {
                var error = (Errno)Marshal.GetLastPInvokeError();
                throw error == Errno.EADDRINUSE
                    ? new LinuxException($"cannot listen on unix socket {path}: it is in use (another socket was bound there first)")
                    : new LinuxException($"bind to unix socket {path}", error);
            }

            bound = true;
            Statx.ForPath(path, out created).ThrowIfFailed($"statx of the unix socket {path} just bound");
            if (LibC.listen(raw, backlog) != 0)
            {
                throw LinuxException.FromLastError($"listen on unix socket {path}");
            }

            return new UnixStreamSocket(fd, path, isListener: true, created);
        }
        catch
        {
            if (bound && created.Inode != 0)
            {
                UnlinkIfSame(path, created);
            }

            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to the server listening on <paramref name="path"/>, retrying while there is none yet
    /// (ENOENT, ECONNREFUSED) or its backlog is full (EAGAIN), until <paramref name="timeout"/>: vhost-user
    /// client mode waits for the server to come up.
    /// </summary>
    /// <exception cref="TimeoutException">No server accepted within the timeout; names the path and the last error.</exception>
    /// <exception cref="LinuxException">connect failed for another reason (e.g. EACCES).</exception>
    public static UnixStreamSocket Connect(string path, TimeSpan timeout)
    {
        _ = BuildAddress(path, stackalloc byte[SockaddrUnSize]);
        var deadline = Deadline.Start(timeout, nameof(timeout));
        while (true)
        {
            if (TryConnect(path, out UnixStreamSocket? socket, out Errno error))
            {
                return socket!;
            }

            if (error is not (Errno.ENOENT or Errno.ECONNREFUSED or Errno.EAGAIN or Errno.EINTR))
            {
                throw new LinuxException($"connect to unix socket {path}", error);
            }

            // connect(2) also says ECONNREFUSED for a path that is not a socket: waiting would not help.
            if (error == Errno.ECONNREFUSED && Statx.ForPath(path, out Statx file).IsSuccess && !file.IsSocket)
            {
                throw new LinuxException($"cannot connect to unix socket {path}: the path exists and is not a socket");
            }

            int left = deadline.RemainingMilliseconds;
            if (left == 0)
            {
                throw new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"no server accepted a connection on unix socket {path} within {timeout.TotalMilliseconds:0} ms (last error: {error}, {LinuxException.Describe(error)})"));
            }

            Thread.Sleep(left < 0 ? RetryConnectMilliseconds : Math.Min(left, RetryConnectMilliseconds));
        }
    }

    /// <summary>
    /// One attempt to connect to <paramref name="path"/>, without blocking. False with the errno when it
    /// failed: ENOENT (no socket file), ECONNREFUSED (nobody listens), EAGAIN (backlog full), EACCES, ...
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, contains NUL or does not fit sun_path.</exception>
    public static bool TryConnect(string path, out UnixStreamSocket? socket, out Errno error)
    {
        byte* address = stackalloc byte[SockaddrUnSize];
        int addressLength = BuildAddress(path, address);
        socket = null;
        error = ConnectOnce(address, addressLength, out SafeFd? fd);
        if (error != Errno.None)
        {
            return false;
        }

        // The connect itself was non-blocking so a full backlog cannot hang it; the socket is used blocking.
        int flags = LibC.fcntl(fd!.Fd, Syscalls.F_GETFL, 0);
        if (flags < 0 || LibC.fcntl(fd.Fd, Syscalls.F_SETFL, flags & ~Syscalls.O_NONBLOCK) < 0)
        {
            error = (Errno)Marshal.GetLastPInvokeError();
            fd.Dispose();
            return false;
        }

        socket = new UnixStreamSocket(fd, path, isListener: false, default);
        return true;
    }

    /// <summary>A connected pair of sockets (socketpair(2)), close-on-exec, blocking.</summary>
    public static (UnixStreamSocket First, UnixStreamSocket Second) CreatePair()
    {
        int* sv = stackalloc int[2];
        if (LibC.socketpair(Syscalls.AF_UNIX, Syscalls.SOCK_STREAM | Syscalls.SOCK_CLOEXEC, 0, sv) != 0)
        {
            throw LinuxException.FromLastError("socketpair(AF_UNIX, SOCK_STREAM)");
        }

        return (new UnixStreamSocket(new SafeFd(sv[0]), null, false, default), new UnixStreamSocket(new SafeFd(sv[1]), null, false, default));
    }

    /// <summary>
    /// Accepts one connection on a listener, waiting up to <paramref name="timeout"/>; null when none came.
    /// The accepted socket is blocking and close-on-exec.
    /// </summary>
    public UnixStreamSocket? Accept(TimeSpan timeout)
    {
        var deadline = Deadline.Start(timeout, nameof(timeout));
        bool added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            while (true)
            {
                int raw = LibC.accept4(_fd.Fd, null, null, Syscalls.SOCK_CLOEXEC);
                if (raw >= 0)
                {
                    return new UnixStreamSocket(new SafeFd(raw), null, false, default);
                }

                var error = (Errno)Marshal.GetLastPInvokeError();
                if (error is Errno.EINTR or Errno.ECONNABORTED)
                {
                    continue;
                }

                if (error != Errno.EAGAIN)
                {
                    throw new LinuxException($"accept4 on unix socket {Describe()}", error);
                }

                if (!WaitFor(Syscalls.POLLIN, deadline, "accept"))
                {
                    return null;
                }
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>Sends all of <paramref name="data"/> (no descriptors), waiting up to <paramref name="timeout"/> for room.</summary>
    /// <param name="description">What is being sent (e.g. "VHOST_USER_GET_FEATURES reply"), for the timeout message.</param>
    public void Send(ReadOnlySpan<byte> data, TimeSpan timeout, string? description = null) =>
        Send(data, ReadOnlySpan<int>.Empty, timeout, description);

    /// <summary>
    /// Sends all of <paramref name="data"/>, with <paramref name="fds"/> attached as one SCM_RIGHTS message
    /// to its first byte. Loops over partial sends and EINTR; waits for room (POLLOUT) until
    /// <paramref name="timeout"/>. MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE. The descriptors stay
    /// ours: the peer gets duplicates.
    /// </summary>
    /// <param name="description">What is being sent, for the timeout message.</param>
    /// <exception cref="ArgumentException">More than 253 descriptors, a negative one, or descriptors without data.</exception>
    /// <exception cref="TimeoutException">The peer did not make room in time; names what was being sent and how much went.</exception>
    /// <exception cref="LinuxException">sendmsg failed (EPIPE, ECONNRESET, EBADF for a closed descriptor, ...).</exception>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout, string? description = null)
    {
        if (fds.Length > MaxFileDescriptors)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{fds.Length} file descriptors in one message; the kernel allows at most {MaxFileDescriptors} (SCM_MAX_FD)"),
                nameof(fds));
        }

        if (!fds.IsEmpty && data.IsEmpty)
        {
            throw new ArgumentException("file descriptors travel with at least one byte of data on a stream socket", nameof(data));
        }

        foreach (int f in fds)
        {
            if (f < 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"invalid file descriptor {f}"), nameof(fds));
            }
        }

        var deadline = Deadline.Start(timeout, nameof(timeout));
        int dataLength = fds.Length * sizeof(int);
        int controlSpace = fds.IsEmpty ? 0 : ControlMessages.Space(dataLength);
        byte* control = stackalloc byte[ControlMessages.MaxSpace];
        new Span<byte>(control, controlSpace).Clear();
        if (controlSpace > 0)
        {
            var header = (CmsgHdr*)control;
            header->Length = (nuint)ControlMessages.Length(dataLength);
            header->Level = ControlMessages.SOL_SOCKET;
            header->Type = ControlMessages.SCM_RIGHTS;
            fds.CopyTo(new Span<int>(control + ControlMessages.HeaderSize, fds.Length));
        }

        bool added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = data)
            {
                int sent = 0;
                while (sent < data.Length)
                {
                    IoVec iov = new() { Base = (nint)(p + sent), Length = (nuint)(data.Length - sent) };
                    MsgHdr message = new() { Iov = &iov, IovLength = 1 };
                    if (sent == 0 && controlSpace > 0)
                    {
                        // Once any byte went, the descriptors went with it: later chunks carry none.
                        message.Control = control;
                        message.ControlLength = (nuint)controlSpace;
                    }

                    nint r = LibC.sendmsg(_fd.Fd, &message, ControlMessages.MSG_NOSIGNAL | ControlMessages.MSG_DONTWAIT);
                    if (r >= 0)
                    {
                        sent += (int)r;
                        continue;
                    }

                    var error = (Errno)Marshal.GetLastPInvokeError();
                    if (error == Errno.EINTR)
                    {
                        continue;
                    }

                    if (error != Errno.EAGAIN)
                    {
                        throw new LinuxException($"sendmsg of {DescribeSend(description, data.Length, fds.Length)} on unix socket {Describe()}", error);
                    }

                    if (!WaitFor(Syscalls.POLLOUT, deadline, "sendmsg"))
                    {
                        throw new TimeoutException(string.Create(
                            CultureInfo.InvariantCulture,
                            $"timed out after {timeout.TotalMilliseconds:0} ms sending {DescribeSend(description, data.Length, fds.Length)} on unix socket {Describe()}: {sent} of {data.Length} bytes sent, the peer is not reading"));
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// <see cref="Send(ReadOnlySpan{byte}, ReadOnlySpan{int}, TimeSpan, string?)"/> with owned descriptors,
    /// kept open (referenced) for the duration of the call.
    /// </summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<SafeFd> fds, TimeSpan timeout, string? description = null)
    {
        if (fds.Length > MaxFileDescriptors)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{fds.Length} file descriptors in one message; the kernel allows at most {MaxFileDescriptors} (SCM_MAX_FD)"),
                nameof(fds));
        }

        int* raw = stackalloc int[Math.Max(fds.Length, 1)];
        int referenced = 0;
        try
        {
            for (; referenced < fds.Length; referenced++)
            {
                SafeFd f = fds[referenced] ?? throw new ArgumentException("a null descriptor in the list", nameof(fds));
                bool added = false;
                f.DangerousAddRef(ref added); // ObjectDisposedException for a closed descriptor
                raw[referenced] = f.Fd;
            }

            Send(data, new ReadOnlySpan<int>(raw, fds.Length), timeout, description);
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    /// <summary>
    /// One recvmsg(2): reads what is there (up to <paramref name="buffer"/>'s length) and the descriptors
    /// sent with it, waiting up to <paramref name="timeout"/> for something to arrive. Received descriptors
    /// are appended to <paramref name="receivedFds"/> as owned, close-on-exec handles. A stream socket
    /// delivers the descriptors with the first byte of the send that carried them.
    /// </summary>
    /// <returns>Bytes read; 0 when the peer closed the connection.</returns>
    /// <param name="maxFds">The most descriptors accepted in this message (0 to 253).</param>
    /// <param name="description">What is awaited (e.g. "vhost-user message header"), for the timeout message.</param>
    /// <exception cref="UnixSocketProtocolException">
    /// The peer sent more than <paramref name="maxFds"/> descriptors. Every descriptor of this message is
    /// already closed and none is added to the list; the caller drops the connection.
    /// </exception>
    /// <exception cref="TimeoutException">Nothing arrived in time.</exception>
    public int Receive(Span<byte> buffer, List<SafeFd> receivedFds, int maxFds, TimeSpan timeout, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(receivedFds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxFds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFds, MaxFileDescriptors);
        if (buffer.IsEmpty)
        {
            throw new ArgumentException("the receive buffer is empty: a zero-byte read could not tell data from the peer closing", nameof(buffer));
        }

        var deadline = Deadline.Start(timeout, nameof(timeout));
        int n = ReceiveCore(buffer, receivedFds, maxFds, deadline, description);
        return n >= 0
            ? n
            : throw new TimeoutException(string.Create(
                CultureInfo.InvariantCulture,
                $"timed out after {timeout.TotalMilliseconds:0} ms waiting for {description ?? "data"} on unix socket {Describe()}"));
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> exactly (e.g. a payload after its header), waiting up to
    /// <paramref name="timeout"/> in all. No descriptors are expected: any the peer sends are closed and
    /// reported.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer closed before the buffer was full.</exception>
    /// <exception cref="TimeoutException">The rest did not arrive in time.</exception>
    /// <exception cref="UnixSocketProtocolException">The peer sent descriptors with these bytes.</exception>
    public void ReceiveExact(Span<byte> buffer, TimeSpan timeout, string? description = null)
    {
        var deadline = Deadline.Start(timeout, nameof(timeout));
        int got = 0;
        while (got < buffer.Length)
        {
            int n = ReceiveCore(buffer[got..], null, 0, deadline, description);
            if (n < 0)
            {
                throw new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"timed out after {timeout.TotalMilliseconds:0} ms waiting for {description ?? "data"} on unix socket {Describe()}: {got} of {buffer.Length} bytes received"));
            }

            if (n == 0)
            {
                throw new EndOfStreamException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the peer closed unix socket {Describe()} after {got} of the {buffer.Length} bytes of {description ?? "a message"}"));
            }

            got += n;
        }
    }

    /// <summary>The peer process's pid, uid and gid (SO_PEERCRED), recorded by the kernel at connect time.</summary>
    public PeerCredentials GetPeerCredentials()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int* ucred = stackalloc int[3]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        int length = 3 * sizeof(int);
        Syscalls.GetSockOpt(_fd.Fd, ControlMessages.SOL_SOCKET, ControlMessages.SO_PEERCRED, ucred, ref length)
            .ThrowIfFailed($"getsockopt(SO_PEERCRED) on unix socket {Describe()}");
        return new PeerCredentials(ucred[0], (uint)ucred[1], (uint)ucred[2]);
    }

    /// <summary>
    /// Shuts both directions down (shutdown(2) SHUT_RDWR): the peer reads end of stream and our blocked
    /// waits wake, while the descriptor stays open until <see cref="Dispose"/>.
    /// </summary>
    public void Shutdown()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (LibC.shutdown(_fd.Fd, SHUT_RDWR) != 0)
        {
            var error = (Errno)Marshal.GetLastPInvokeError();
            if (error != Errno.ENOTCONN) // the peer is already gone
            {
                throw new LinuxException($"shutdown of unix socket {Describe()}", error);
            }
        }
    }

    /// <summary>
    /// Closes the socket. A listener also removes its socket file, when the file at its path is still the
    /// one it created (not one another process bound there since, nor anything else put there).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (IsListener && Path is not null)
        {
            // While our socket is open it pins the inode it was bound to, so that inode number cannot have
            // been reused for another file: the comparison is exact. If someone closed our descriptor behind
            // our back it no longer is, and the file is left (a later Listen replaces it as stale).
            bool added = false;
            try
            {
                _fd.DangerousAddRef(ref added);
                UnlinkIfSame(Path, _listenFile);
            }
            catch (ObjectDisposedException)
            {
            }
            finally
            {
                if (added)
                {
                    _fd.DangerousRelease();
                }
            }
        }

        _fd.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"unix socket {Describe()}";

    /// <summary>
    /// Reads once, waiting for data until <paramref name="deadline"/>. Returns bytes read (0 at end of
    /// stream), or -1 when the deadline passed first.
    /// </summary>
    private int ReceiveCore(Span<byte> buffer, List<SafeFd>? receivedFds, int maxFds, Deadline deadline, string? description)
    {
        int controlSpace = maxFds == 0 ? 0 : ControlMessages.Space(maxFds * sizeof(int));
        byte* control = stackalloc byte[ControlMessages.MaxSpace];
        bool added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    IoVec iov = new() { Base = (nint)p, Length = (nuint)buffer.Length };
                    MsgHdr message = new()
                    {
                        Iov = &iov,
                        IovLength = 1,
                        Control = controlSpace == 0 ? null : control,
                        ControlLength = (nuint)controlSpace,
                    };

                    // MSG_CMSG_CLOEXEC: received descriptors are close-on-exec from the start (no fork race).
                    nint r = LibC.recvmsg(_fd.Fd, &message, ControlMessages.MSG_CMSG_CLOEXEC | ControlMessages.MSG_DONTWAIT);
                    if (r < 0)
                    {
                        var error = (Errno)Marshal.GetLastPInvokeError();
                        if (error == Errno.EINTR)
                        {
                            continue;
                        }

                        if (error != Errno.EAGAIN)
                        {
                            throw new LinuxException($"recvmsg of {description ?? "data"} on unix socket {Describe()}", error);
                        }

                        if (!WaitFor(Syscalls.POLLIN, deadline, "recvmsg"))
                        {
                            return -1;
                        }

                        continue;
                    }

                    TakeDescriptors(control, message.ControlLength, message.Flags, receivedFds, maxFds, description);
                    return (int)r;
                }
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Keeps the descriptors in the control data the kernel wrote (appended to <paramref name="receivedFds"/>
    /// as owned handles) or, when there were more than <paramref name="maxFds"/> or the control data was
    /// truncated (MSG_CTRUNC: the kernel dropped the ones that did not fit), closes every one and throws.
    /// </summary>
    private void TakeDescriptors(byte* control, nuint controlLength, int flags, List<SafeFd>? receivedFds, int maxFds, string? description)
    {
        const int Capacity = ControlMessages.MaxDescriptors + 2; // the largest control buffer holds 254
        int* taken = stackalloc int[Capacity];
        int count = 0;
        int header = ControlMessages.HeaderSize;
        nuint offset = 0;
        while (controlLength >= (nuint)header && offset <= controlLength - (nuint)header)
        {
            var cmsg = (CmsgHdr*)(control + offset);
            nuint length = cmsg->Length;
            if (length < (nuint)header || length > controlLength - offset)
            {
                break; // the kernel never writes this; stop rather than read past the buffer
            }

            // Only SCM_RIGHTS installs descriptors; anything else (SCM_CREDENTIALS, ...) carries none.
            if (cmsg->Level == ControlMessages.SOL_SOCKET && cmsg->Type == ControlMessages.SCM_RIGHTS)
            {
                int n = (int)((length - (nuint)header) / sizeof(int));
                int* fds = (int*)((byte*)cmsg + header);
                for (int i = 0; i < n; i++)
                {
                    if (fds[i] < 0)
                    {
                        continue;
                    }

                    if (count < Capacity)
                    {
                        taken[count++] = fds[i];
                    }
                    else
                    {
                        _ = LibC.close(fds[i]); // cannot happen with our buffer sizes; never leak one anyway
                        count++;
                    }
                }
            }

            nuint next = (nuint)ControlMessages.Align((int)Math.Min(length, (nuint)int.MaxValue));
            if (next == 0 || next > controlLength - offset)
            {
                break;
            }

            offset += next;
        }

        bool truncated = (flags & ControlMessages.MSG_CTRUNC) != 0;
        if (!truncated && count <= maxFds)
        {
            for (int i = 0; i < count; i++)
            {
                receivedFds!.Add(new SafeFd(taken[i]));
            }

            return;
        }

        for (int i = 0; i < Math.Min(count, Capacity); i++)
        {
            _ = LibC.close(taken[i]);
        }

        string what = description is null ? string.Empty : $" with {description}";
        throw new UnixSocketProtocolException(maxFds == 0
            ? $"the peer on unix socket {Describe()} sent file descriptors{what} where none were expected; they were closed"
            : string.Create(
                CultureInfo.InvariantCulture,
                $"the peer on unix socket {Describe()} sent more than {maxFds} file descriptors{what}{(truncated ? " (control data truncated)" : string.Empty)}; all of them were closed"));
    }

    /// <summary>
    /// Waits until the socket is ready for <paramref name="events"/> (or has an error, which the next call
    /// reports). False when the deadline passed. EINTR restarts the wait with the time left.
    /// </summary>
    private bool WaitFor(short events, Deadline deadline, string operation)
    {
        while (true)
        {
            int left = deadline.RemainingMilliseconds;
            if (left == 0)
            {
                return false;
            }

            PollFd poll = new() { Fd = _fd.Fd, Events = events };
            int r = LibC.poll(&poll, 1, left);
            if (r < 0)
            {
                var error = (Errno)Marshal.GetLastPInvokeError();
                if (error == Errno.EINTR)
                {
                    continue;
                }

                throw new LinuxException($"poll before {operation} on unix socket {Describe()}", error);
            }

            if (r > 0)
            {
                if ((poll.Revents & Syscalls.POLLNVAL) != 0)
                {
                    throw new LinuxException($"poll before {operation} on unix socket {Describe()}", Errno.EBADF);
                }

                return true;
            }
        }
    }

    private int GetStatusFlags()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int flags = LibC.fcntl(_fd.Fd, Syscalls.F_GETFL, 0);
        return flags >= 0 ? flags : throw LinuxException.FromLastError($"fcntl(F_GETFL) on unix socket {Describe()}");
    }

    private string Describe() =>
        Path is null
            ? string.Create(CultureInfo.InvariantCulture, $"fd {(_fd.IsClosed ? -1 : _fd.Fd)}")
            : string.Create(CultureInfo.InvariantCulture, $"{Path} (fd {(_fd.IsClosed ? -1 : _fd.Fd)}{(IsListener ? ", listening" : string.Empty)})");

    private static string DescribeSend(string? description, int bytes, int fds) =>
        description ?? string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes with {fds} file descriptors");

    /// <summary>
    /// Fills struct sockaddr_un for <paramref name="path"/>; returns its length. The path must fit sun_path
    /// with its NUL: a longer one would be cut silently by the kernel's view of it.
    /// </summary>
    private static int BuildAddress(string path, Span<byte> address)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"unix socket path '{path.Replace("\0", "\\0", StringComparison.Ordinal)}' contains NUL; abstract sockets are not supported", nameof(path));
        }

        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > SunPathSize - 1)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"unix socket path '{path}' is {bytes} bytes; sun_path holds at most {SunPathSize - 1} bytes plus the terminating NUL"),
                nameof(path));
        }

        address[..SockaddrUnSize].Clear();
        MemoryMarshal.Write(address, (ushort)Syscalls.AF_UNIX);
        Encoding.UTF8.GetBytes(path, address[2..]);
        return 2 + bytes + 1;
    }

    private static int BuildAddress(string path, byte* address) => BuildAddress(path, new Span<byte>(address, SockaddrUnSize));

    /// <summary>One non-blocking connect; the errno, or <see cref="Errno.None"/> with the connected socket.</summary>
    private static Errno ConnectOnce(byte* address, int addressLength, out SafeFd? fd)
    {
        fd = null;
        int raw = LibC.socket(Syscalls.AF_UNIX, Syscalls.SOCK_STREAM | Syscalls.SOCK_CLOEXEC | Syscalls.SOCK_NONBLOCK, 0);
        if (raw < 0)
        {
            return (Errno)Marshal.GetLastPInvokeError();
        }

        var handle = new SafeFd(raw);
        while (true)
        {
            if (LibC.connect(raw, address, (uint)addressLength) == 0)
            {
                fd = handle;
                return Errno.None;
            }

            var error = (Errno)Marshal.GetLastPInvokeError();
            if (error != Errno.EINTR)
            {
                handle.Dispose();
                return error;
            }
        }
    }

    /// <summary>
    /// Before binding: removes a socket file nobody listens on (ECONNREFUSED); refuses a live socket and
    /// anything that is not a socket, leaving it in place.
    /// </summary>
    private static void RemoveStaleSocket(string path, byte* address, int addressLength)
    {
        SysResult r = Statx.ForPath(path, out Statx existing);
        if (!r.IsSuccess)
        {
            if (r.Error == Errno.ENOENT)
            {
                return;
            }

            throw new LinuxException($"statx of unix socket path {path}", r.Error);
        }

        if (!existing.IsSocket)
        {
            throw new LinuxException($"cannot listen on unix socket {path}: the path exists and is not a socket (left untouched)");
        }

        Errno probe = ConnectOnce(address, addressLength, out SafeFd? probeFd);
        probeFd?.Dispose();
        switch (probe)
        {
            case Errno.None:
            case Errno.EAGAIN: // backlog full: someone listens, and is busy
                throw new LinuxException($"cannot listen on unix socket {path}: it is in use (another process accepts connections on it)");
            case Errno.ECONNREFUSED:
                // Stale: left by a process that died. Remove it if it is still the file we probed.
                if (Statx.ForPath(path, out Statx again).IsSuccess && again.IsSameFile(existing) && LibC.unlink(path) != 0)
                {
                    var error = (Errno)Marshal.GetLastPInvokeError();
                    if (error != Errno.ENOENT)
                    {
                        throw new LinuxException($"unlink of stale unix socket {path}", error);
                    }
                }

                return;
            case Errno.ENOENT:
                return; // removed meanwhile
            default:
                throw new LinuxException($"connect to probe the existing unix socket {path}", probe);
        }
    }

    /// <summary>Unlinks <paramref name="path"/> if it is still the socket file <paramref name="created"/> describes.</summary>
    private static void UnlinkIfSame(string path, in Statx created)
    {
        if (Statx.ForPath(path, out Statx now).IsSuccess && now.IsSocket && now.IsSameFile(created))
        {
            _ = LibC.unlink(path);
        }
    }
}
