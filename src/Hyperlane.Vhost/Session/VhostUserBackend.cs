using System.Diagnostics;
using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Packets;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// A vhost-user backend (vhost-user.rst "back-end"; DPDK lib/vhost under net_vhost): serves one Unix socket, in
/// server mode (listen, accept one frontend at a time) or client mode (connect, retrying every second, and again
/// after every disconnect, like DPDK's <c>client=1</c>), and turns the frontend's setup into queues the data path
/// uses through <see cref="Slots"/>.
/// </summary>
/// <remarks>
/// <para>
/// One thread of its own runs the connection: it waits (epoll) for the socket, reads a 12-byte header with the fds
/// that came with it, validates it (<see cref="VhostUserMessageDecoder"/>), reads the payload, decodes, handles the
/// request (<see cref="VhostUserSession"/>), and replies with the REPLY flag (and, when NEED_REPLY was set on a
/// request without a reply of its own, a u64 acknowledgement: 0 success, 1 failure). The first byte of a message
/// may be waited for without limit; the rest of it, and each reply, within <see cref="VhostUserBackendOptions.MessageTimeout"/>.
/// </para>
/// <para>
/// Anything malformed or refused (hardening.md §3.6): the request is logged by name with what was wrong, counted in
/// <see cref="Counters"/>, every fd that came with it is closed, and the connection is dropped (server mode: the
/// next frontend is accepted; client mode: it reconnects). A request of the spec that this backend does not
/// implement is logged and counted; it gets a failure acknowledgement when NEED_REPLY was set, and the connection
/// stays. Nothing a frontend sends makes the thread throw, hang, or leak an fd or a mapping.
/// </para>
/// <para>
/// Events are raised on the session thread; a handler must not block it for long (the frontend waits), and
/// exceptions it throws are logged and swallowed.
/// </para>
/// </remarks>
public sealed class VhostUserBackend : IDisposable
{
    /// <summary>The most fds a message may carry (one per memory region).</summary>
    private const int MaxFds = VhostUserMessageDecoder.MaxFds;

    /// <summary>The largest payload read and discarded for a request this backend does not implement (GET/SET_CONFIG: 12 + 256 bytes).</summary>
    private const int MaxSkippedPayload = 4096;

    private const ulong TagStop = 1;
    private const ulong TagListener = 2;
    private const ulong TagConnection = 3;

    private readonly VhostUserBackendOptions _options;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly VhostQueueSlot[] _slots;
    private readonly VhostUserSession _session;
    private readonly object _connectionLock = new();
    private readonly byte[] _header = new byte[VhostUserHeader.Size];
    private readonly byte[] _payload = new byte[MaxSkippedPayload];
    private readonly byte[] _reply = new byte[VhostUserMessageEncoder.MaxMessageSize];
    private readonly List<SafeFd> _fds = new(MaxFds);
    private readonly long[] _healthFaults;
    private readonly IVhostQueue?[] _healthQueues;

    private EventFd? _stop;
    private Epoll? _epoll;
    private UnixStreamSocket? _listener;
    private UnixStreamSocket? _connection;
    private Thread? _thread;
    private volatile bool _stopping;
    private volatile bool _ready;
    private bool _disposeOnThread;
    private int _started;
    private int _disposed;
    private long _lastHealthCheck;
    private long _reconnectNotBefore;
    private MacAddress? _lastRarp;
    private int _mtu;

    /// <summary>A backend for <paramref name="options"/>; it does nothing until <see cref="Start"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="VhostUserBackendOptions.Validate"/>).</exception>
    public VhostUserBackend(VhostUserBackendOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _path = options.SocketPath;
        _slots = new VhostQueueSlot[2 * options.QueuePairs];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new VhostQueueSlot(i);
        }

        _healthFaults = new long[_slots.Length];
        _healthQueues = new IVhostQueue?[_slots.Length];
        _session = new VhostUserSession(options, _slots, _logger, Counters);
    }

    /// <summary>Raised (on the session thread) when the device becomes ready: the first queue pair is usable (and DRIVER_OK is set when STATUS is negotiated).</summary>
    public event EventHandler? Ready;

    /// <summary>Raised (on the session thread) when a ready device stops being ready: the link goes down (disconnect, GET_VRING_BASE, RESET_OWNER, status reset...).</summary>
    public event EventHandler? Disconnected;

    /// <summary>Raised (on the session thread) on VHOST_USER_SEND_RARP: announce the guest's MAC (a RARP or gratuitous ARP) after a live migration.</summary>
    public event EventHandler<MacAddress>? RarpRequested;

    /// <summary>Raised (on the session thread) on VHOST_USER_NET_SET_MTU with the MTU (68 to 65535).</summary>
    public event EventHandler<int>? MtuSet;

    /// <summary>The options the backend was made with.</summary>
    public VhostUserBackendOptions Options => _options;

    /// <summary>The socket path.</summary>
    public string SocketPath => _path;

    /// <summary>One slot per vring (2 × queue pairs): slot 2q is receiveq q (enqueue), 2q+1 transmitq q (dequeue).</summary>
    public IReadOnlyList<VhostQueueSlot> Slots => _slots;

    /// <summary>Counters for xstats.</summary>
    public VhostUserBackendCounters Counters { get; } = new();

    /// <summary>Whether the device is ready (DPDK: the first queue pair's rings are usable; with STATUS, DRIVER_OK is set).</summary>
    public bool IsReady => _ready;

    /// <summary>Whether a frontend is connected.</summary>
    public bool IsConnected => Volatile.Read(ref _connection) is not null;

    /// <summary>The feature bits the frontend set (SET_FEATURES), 0 before. A snapshot.</summary>
    public ulong NegotiatedFeatures => _session.Features;

    /// <summary>The protocol features the frontend set (SET_PROTOCOL_FEATURES). A snapshot.</summary>
    public VhostUserProtocolFeatures NegotiatedProtocolFeatures => _session.ProtocolFeatures;

    /// <summary>The virtio device status the frontend set (SET_STATUS). A snapshot.</summary>
    public byte DeviceStatus => _session.Status;

    /// <summary>The MTU the frontend set (NET_SET_MTU), or 0.</summary>
    public int Mtu => Volatile.Read(ref _mtu);

    /// <summary>The MAC of the last SEND_RARP, if any.</summary>
    public MacAddress? LastRarpMac
    {
        get
        {
            lock (_connectionLock)
            {
                return _lastRarp;
            }
        }
    }

    /// <summary>
    /// Starts serving: listens on the socket (server mode) and starts the session thread. Subscribe to the events
    /// first.
    /// </summary>
    /// <exception cref="LinuxException">The socket cannot be listened on (in use, not a socket, permissions...).</exception>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"the vhost-user backend on {_path} is already started");
        }

        try
        {
            _stop = new EventFd();
            _epoll = new Epoll();
            _epoll.Add(_stop.Handle, EpollEvents.In, TagStop);
            if (_options.Client)
            {
                VhostUserBackendLog.ClientStarted(_logger, _path, _options.ReconnectInterval.TotalMilliseconds, _options.QueuePairs, _session.OfferedFeatures, (ulong)_session.OfferedProtocolFeatures);
            }
            else
            {
                _listener = UnixStreamSocket.Listen(_path);
                _epoll.Add(_listener.Handle, EpollEvents.In, TagListener);
                VhostUserBackendLog.Listening(_logger, _path, _options.QueuePairs, _session.OfferedFeatures, (ulong)_session.OfferedProtocolFeatures);
            }

            _thread = new Thread(Run) { IsBackground = true, Name = "vhost-user" };
            _thread.Start();
        }
        catch
        {
            _listener?.Dispose();
            _epoll?.Dispose();
            _stop?.Dispose();
            _listener = null;
            _epoll = null;
            _stop = null;
            throw;
        }
    }

    /// <summary>
    /// Stops: drops the connection, retires every queue (waiting for the data path to leave it), unmaps the
    /// frontend's memory, closes every fd and removes the socket file (server mode).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping = true;
        Thread? thread = _thread;
        if (thread is null)
        {
            DisposeResources();
            return;
        }

        _stop!.Signal();
        lock (_connectionLock)
        {
            try
            {
                _connection?.Shutdown(); // wakes a wait for the rest of a message or for room to reply
            }
            catch (Exception ex) when (ex is LinuxException or ObjectDisposedException)
            {
                // already gone
            }
        }

        if (Thread.CurrentThread == thread)
        {
            _disposeOnThread = true; // called from an event handler: the loop ends after it and cleans up
            return;
        }

        TimeSpan wait = _options.MessageTimeout + (2 * _options.RetireTimeout) + TimeSpan.FromSeconds(5);
        if (!thread.Join(wait))
        {
            VhostUserBackendLog.ThreadDidNotStop(_logger, _path, wait.TotalMilliseconds);
            return;
        }

        DisposeResources();
    }

    /// <inheritdoc/>
    public override string ToString() => $"vhost-user backend {_path} ({(_options.Client ? "client" : "server")}, {(IsConnected ? "connected" : "not connected")}, {(IsReady ? "ready" : "not ready")})";

    private static string RequestName(uint request) => VhostUserRequestInfo.SpecName((VhostUserRequest)request);

    private void Run()
    {
        Span<EpollEvent> events = stackalloc EpollEvent[4];
        try
        {
            while (!_stopping)
            {
                if (_connection is null && _options.Client)
                {
                    long wait = _reconnectNotBefore - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        WaitForStop(events, Stopwatch.GetElapsedTime(0, wait));
                        continue;
                    }

                    if (!TryConnect())
                    {
                        WaitForStop(events, _options.ReconnectInterval);
                    }

                    continue;
                }

                int timeout = _connection is null ? -1 : Milliseconds(_options.HealthCheckInterval);
                int n = _epoll!.Wait(events, timeout);
                for (int i = 0; i < n && !_stopping; i++)
                {
                    switch (events[i].Data)
                    {
                        case TagListener:
                            OnListenerReady();
                            break;
                        case TagConnection:
                            if (_connection is not null)
                            {
                                ServeOneMessage(_connection);
                            }

                            break;
                    }
                }

                if (_connection is not null && Stopwatch.GetElapsedTime(_lastHealthCheck) >= _options.HealthCheckInterval)
                {
                    HealthCheck();
                }
            }
        }
        catch (Exception ex)
        {
            VhostUserBackendLog.ThreadFailed(_logger, ex, _path);
        }
        finally
        {
            try
            {
                Drop();
            }
            catch (Exception ex)
            {
                VhostUserBackendLog.UnexpectedError(_logger, ex, _path);
            }

            if (_disposeOnThread)
            {
                DisposeResources();
            }
        }
    }

    private static int Milliseconds(TimeSpan t) => (int)Math.Clamp(Math.Ceiling(t.TotalMilliseconds), 1, int.MaxValue);

    private void WaitForStop(Span<EpollEvent> events, TimeSpan timeout) => _epoll!.Wait(events, Milliseconds(timeout));

    private bool TryConnect()
    {
        if (!UnixStreamSocket.TryConnect(_path, out UnixStreamSocket? socket, out Errno error))
        {
            Counters.ConnectFailed();
            VhostUserBackendLog.ConnectFailed(_logger, _path, LinuxException.Describe(error));
            return false;
        }

        Adopt(socket!, "client mode: connected");
        return true;
    }

    private void OnListenerReady()
    {
        UnixStreamSocket? socket;
        try
        {
            socket = _listener!.Accept(TimeSpan.Zero);
        }
        catch (LinuxException ex)
        {
            VhostUserBackendLog.IoError(_logger, ex, _path, "accept");
            return;
        }

        if (socket is null)
        {
            return;
        }

        if (_connection is not null)
        {
            Counters.Refused();
            VhostUserBackendLog.RefusedSecond(_logger, _path);
            socket.Dispose();
            return;
        }

        Adopt(socket, "server mode: accepted");
    }

    private void Adopt(UnixStreamSocket socket, string mode)
    {
        try
        {
            _epoll!.Add(socket.Handle, EpollEvents.In | EpollEvents.RdHup, TagConnection);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        lock (_connectionLock)
        {
            _connection = socket;
        }

        _lastHealthCheck = Stopwatch.GetTimestamp();
        Counters.Accepted();
        VhostUserBackendLog.Connected(_logger, _path, mode);
    }

    /// <summary>Reads, validates, handles and answers one message; any failure drops the connection (after logging and counting it).</summary>
    private void ServeOneMessage(UnixStreamSocket connection)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            if (!ReadHeader(connection, start))
            {
                return;
            }

            if (!VhostUserMessageDecoder.TryDecodeHeader(_header, out VhostUserHeader header, out VhostUserDecodeError error, out string? text))
            {
                if (error == VhostUserDecodeError.UnsupportedRequest)
                {
                    SkipUnsupported(connection, header, start);
                }
                else
                {
                    DropMalformed(RequestName(header.Request), text);
                }

                return;
            }

            string name = RequestName(header.Request);
            int size = (int)header.PayloadSize; // at most MaxPayloadSize: checked by the decoder
            if (!ReadPayload(connection, name, size, start))
            {
                return;
            }

            if (!VhostUserMessageDecoder.TryDecode(_header, _payload.AsSpan(0, size), _fds.Count, out VhostUserMessage? message, out _, out text))
            {
                DropMalformed(name, text);
                return;
            }

            Handle(connection, message, name);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            VhostUserBackendLog.UnexpectedError(_logger, ex, _path);
            Counters.DroppedForError();
            Drop();
        }
        finally
        {
            CloseFds();
        }
    }

    private bool ReadHeader(UnixStreamSocket connection, long start)
    {
        int got = 0;
        while (got < VhostUserHeader.Size)
        {
            int n;
            try
            {
                n = connection.Receive(_header.AsSpan(got), _fds, MaxFds - _fds.Count, Remaining(start), "a vhost-user message header");
            }
            catch (TimeoutException)
            {
                DropMalformed("message", string.Create(CultureInfo.InvariantCulture, $"only {got} of the {VhostUserHeader.Size} header bytes arrived within {_options.MessageTimeout.TotalMilliseconds:0} ms"));
                return false;
            }
            catch (UnixSocketProtocolException ex)
            {
                DropMalformed("message", ex.Message);
                return false;
            }
            catch (LinuxException ex)
            {
                DropIo(ex, "reading a message header");
                return false;
            }

            if (n == 0)
            {
                if (got == 0)
                {
                    PeerClosed();
                }
                else
                {
                    DropMalformed("message", string.Create(CultureInfo.InvariantCulture, $"the frontend closed the connection after {got} of the {VhostUserHeader.Size} header bytes"));
                }

                return false;
            }

            got += n;
        }

        return true;
    }

    private bool ReadPayload(UnixStreamSocket connection, string name, int size, long start)
    {
        if (size == 0)
        {
            return true;
        }

        try
        {
            connection.ReceiveExact(_payload.AsSpan(0, size), Remaining(start), name + " payload");
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or EndOfStreamException or UnixSocketProtocolException)
        {
            DropMalformed(name, ex.Message);
            return false;
        }
        catch (LinuxException ex)
        {
            DropIo(ex, "reading the payload of " + name);
            return false;
        }
    }

    /// <summary>A request of the spec this backend does not implement: read and discard its payload, close its fds, log, count, nack if asked.</summary>
    private void SkipUnsupported(UnixStreamSocket connection, VhostUserHeader header, long start)
    {
        string name = RequestName(header.Request);
        if (header.PayloadSize > MaxSkippedPayload)
        {
            DropMalformed(name, string.Create(CultureInfo.InvariantCulture, $"payload size {header.PayloadSize} of an unsupported request is larger than {MaxSkippedPayload}"));
            return;
        }

        if (!ReadPayload(connection, name, (int)header.PayloadSize, start))
        {
            return;
        }

        CloseFds();
        Unsupported(connection, (VhostUserRequest)header.Request, name, header.NeedReply);
    }

    private void Unsupported(UnixStreamSocket connection, VhostUserRequest request, string name, bool needReply)
    {
        Counters.Unsupported();
        VhostUserBackendLog.Unsupported(_logger, _path, name, (uint)request, needReply ? "answered with a failure acknowledgement" : "ignored");
        if (needReply)
        {
            TrySend(connection, _reply.AsSpan(0, VhostUserMessageEncoder.EncodeReply(_reply, request, 1UL)), name + " failure acknowledgement");
        }
    }

    private void Handle(UnixStreamSocket connection, VhostUserMessage message, string name)
    {
        VhostUserHandleOutcome outcome;
        int replyLength;
        try
        {
            outcome = _session.Handle(message, _fds, _reply, out replyLength);
        }
        catch (VhostUserProtocolException ex)
        {
            Counters.Violation();
            VhostUserBackendLog.Violation(_logger, _path, name, ex.Message);
            if (message.NeedReply && !VhostUserRequestInfo.HasReply(message.Request))
            {
                // Tell the frontend why before hanging up (QEMU then reports the failed request).
                TrySend(connection, _reply.AsSpan(0, VhostUserMessageEncoder.EncodeReply(_reply, message.Request, 1UL)), name + " failure acknowledgement", dropOnFailure: false);
            }

            CloseFds();
            Counters.DroppedForError();
            Drop();
            return;
        }

        CloseFds();
        switch (outcome)
        {
            case VhostUserHandleOutcome.Replied:
                if (!TrySend(connection, _reply.AsSpan(0, replyLength), name + " reply"))
                {
                    return;
                }

                Counters.MessageHandled();
                break;

            case VhostUserHandleOutcome.Unsupported:
                Unsupported(connection, message.Request, name, message.NeedReply);
                break;

            default:
                if (message.NeedReply && !TrySend(connection, _reply.AsSpan(0, VhostUserMessageEncoder.EncodeReply(_reply, message.Request, 0UL)), name + " acknowledgement"))
                {
                    return;
                }

                Counters.MessageHandled();
                break;
        }

        RaisePending();
        UpdateReadiness();
    }

    private bool TrySend(UnixStreamSocket connection, ReadOnlySpan<byte> bytes, string what, bool dropOnFailure = true)
    {
        try
        {
            connection.Send(bytes, _options.MessageTimeout, what);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or LinuxException or ObjectDisposedException)
        {
            if (dropOnFailure)
            {
                DropIo(ex, "sending the " + what);
            }

            return false;
        }
    }

    private TimeSpan Remaining(long start)
    {
        TimeSpan left = _options.MessageTimeout - Stopwatch.GetElapsedTime(start);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private void CloseFds()
    {
        foreach (SafeFd fd in _fds)
        {
            fd.Dispose();
        }

        _fds.Clear();
    }

    private void PeerClosed()
    {
        Counters.Disconnected();
        VhostUserBackendLog.PeerClosed(_logger, _path);
        Drop();
    }

    private void DropMalformed(string request, string reason)
    {
        Counters.Malformed();
        VhostUserBackendLog.Malformed(_logger, _path, request, reason, _fds.Count);
        CloseFds();
        Counters.DroppedForError();
        Drop();
    }

    private void DropIo(Exception ex, string what)
    {
        if (!_stopping)
        {
            Counters.DroppedForError();
            VhostUserBackendLog.IoError(_logger, ex, _path, what);
        }

        Drop();
    }

    /// <summary>Ends the connection: out of epoll, every queue retired, memory unmapped, fds closed, socket closed.</summary>
    private void Drop()
    {
        UnixStreamSocket? connection = _connection;
        if (connection is null)
        {
            return;
        }

        try
        {
            _epoll?.Remove(connection.Handle);
        }
        catch (LinuxException)
        {
            // not registered (cannot happen) or already closed
        }

        CloseFds();
        _session.Reset();
        lock (_connectionLock)
        {
            _connection = null;
            connection.Dispose();
        }

        Array.Clear(_healthQueues);
        if (_options.Client)
        {
            _reconnectNotBefore = Stopwatch.GetTimestamp() + (long)(_options.ReconnectInterval.TotalSeconds * Stopwatch.Frequency);
        }

        UpdateReadiness();
    }

    private void HealthCheck()
    {
        _lastHealthCheck = Stopwatch.GetTimestamp();
        if (_session.CheckQueues(_healthFaults, _healthQueues) is not null)
        {
            Counters.RingBroken();
            Counters.DroppedForError();
            Drop();
        }
    }

    private void UpdateReadiness()
    {
        bool ready = _connection is not null && _session.IsReady;
        if (ready == _ready)
        {
            return;
        }

        _ready = ready;
        if (ready)
        {
            VhostUserBackendLog.Ready(_logger, _path);
            Raise(Ready, nameof(Ready));
        }
        else
        {
            VhostUserBackendLog.NotReady(_logger, _path);
            Raise(Disconnected, nameof(Disconnected));
        }
    }

    private void RaisePending()
    {
        if (_session.PendingRarp is MacAddress mac)
        {
            _session.PendingRarp = null;
            lock (_connectionLock)
            {
                _lastRarp = mac;
            }

            try
            {
                RarpRequested?.Invoke(this, mac);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                VhostUserBackendLog.EventHandlerFailed(_logger, ex, _path, nameof(RarpRequested));
            }
        }

        if (_session.PendingMtu is int mtu)
        {
            _session.PendingMtu = null;
            Volatile.Write(ref _mtu, mtu);
            try
            {
                MtuSet?.Invoke(this, mtu);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                VhostUserBackendLog.EventHandlerFailed(_logger, ex, _path, nameof(MtuSet));
            }
        }
    }

    private void Raise(EventHandler? handler, string name)
    {
        try
        {
            handler?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            VhostUserBackendLog.EventHandlerFailed(_logger, ex, _path, name);
        }
    }

    private void DisposeResources()
    {
        _session.Dispose();
        _listener?.Dispose();
        _epoll?.Dispose();
        _stop?.Dispose();
        VhostUserBackendLog.Stopped(_logger, _path);
    }
}
