using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// A vhost-user frontend for a virtio-net device: what DPDK's virtio_user is (drivers/net/virtio/virtio_user). It
/// connects to a backend's socket (or listens for it, <see cref="VhostUserFrontendOptions.Server"/>), negotiates,
/// shares its memory (the mempools' memfd regions and a ring area) and sets up one receive and one transmit
/// virtqueue per queue pair, then moves packets with <see cref="Receive"/> and <see cref="Transmit"/> in poll mode.
/// </summary>
/// <remarks>
/// <para>Message sequence, as DPDK 22.11's virtio_user sends it (captured from dpdk-testpmd against a logging backend),
/// with acknowledgements added where REPLY_ACK allows:</para>
/// <list type="number">
/// <item>SET_OWNER; GET_FEATURES.</item>
/// <item>If VHOST_USER_F_PROTOCOL_FEATURES is offered: GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (offered ∩
/// {REPLY_ACK, MQ}); with MQ, GET_QUEUE_NUM (QEMU asks it at the same point). From here on, with REPLY_ACK,
/// every request that has no reply of its own carries NEED_REPLY and its acknowledgement is awaited.</item>
/// <item>SET_VRING_CALL for every vring (DPDK: "vhost depends on this msg to allocate virtqueue pair"), receive
/// vrings first (0, 2, ...), then transmit vrings (1, 3, ...).</item>
/// <item>SET_FEATURES (the negotiated set); SET_MEM_TABLE (ring area + mempool regions, one memfd each,
/// guest_phys_addr = userspace_addr = virtual address, mmap_offset 0).</item>
/// <item>Per vring, in the same order: SET_VRING_NUM, SET_VRING_BASE (0; packed 0x80008000: both wrap counters
/// 1), SET_VRING_ADDR (user addresses, no log), SET_VRING_KICK (last: DPDK's backend treats it as "ring ready").</item>
/// <item>If PROTOCOL_FEATURES is negotiated (rings start disabled): SET_VRING_ENABLE 1 for both vrings of each pair.</item>
/// </list>
/// <para>Teardown (<see cref="Dispose"/>) sends SET_VRING_ENABLE 0 and GET_VRING_BASE per vring, as DPDK's
/// virtio_user_stop_device does, so the backend stops using the buffers before they go back to their pools.</para>
/// <para>
/// Disconnection: a monitor thread watches the socket (EPOLLRDHUP/EPOLLHUP). When the backend goes away the queues
/// are stopped and reset (buffers in flight are freed; bursts return 0) and <see cref="Disconnected"/> is raised.
/// Server mode then waits for the backend to connect again and replays the whole setup with the same features, like
/// DPDK's virtio_user with server=1 (which resets packed rings the same way); a backend that lacks a feature
/// negotiated before is refused and the frontend keeps listening. Client mode does not reconnect by itself (DPDK's
/// virtio_user in client mode does not either): <see cref="Reconnect"/> does, on request.
/// </para>
/// <para>
/// Control queue: VIRTIO_NET_F_CTRL_VQ is never sent to the backend. DPDK's virtio_user keeps the control queue to
/// itself and turns VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET into SET_VRING_ENABLE; here there is no guest driver above, so
/// the frontend enables all configured pairs at setup and <see cref="SetActiveQueuePairs"/> is that same command.
/// </para>
/// </remarks>
public sealed class VhostUserFrontend : IDisposable
{
    private static readonly TimeSpan QueueStopTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AcceptSlice = TimeSpan.FromMilliseconds(200);

    private readonly Lock _control = new();
    private readonly Mempool[] _rxPools;
    private readonly MemoryRegion[] _poolRegions;
    private readonly EventFd _wake;
    private UnixStreamSocket? _listener;
    private UnixStreamSocket? _socket;
    private Thread? _monitor;
    private DriverRingArea? _area;
    private FrontendMemoryTable? _memory;
    private IVirtioDriverQueue[] _rx = [];
    private IVirtioDriverQueue[] _tx = [];
    private ulong? _negotiated;
    private bool _replyAck;
    private int _activePairs;
    private long _connections;
    private int _disposed;
    private Exception? _lastError;
    private VhostUserRequest[] _lastHandshake = [];

    private VhostUserFrontend(VhostUserFrontendOptions options, Mempool[] rxPools, ReadOnlySpan<Mempool> txPools)
    {
        Options = options;
        _rxPools = rxPools;
        var regions = new List<MemoryRegion>();
        foreach (Mempool pool in rxPools)
        {
            if (!regions.Contains(pool.Region))
            {
                regions.Add(pool.Region);
            }
        }

        foreach (Mempool pool in txPools)
        {
            ArgumentNullException.ThrowIfNull(pool, nameof(txPools));
            if (!regions.Contains(pool.Region))
            {
                regions.Add(pool.Region);
            }
        }

        _poolRegions = [.. regions];
        var probe = new FrontendMemoryTable(_poolRegions); // shareable, not disposed, at most 8
        if (probe.Count > VhostUserMemory.MaxRegions - 1)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{probe.Count} mempool regions plus the ring area exceed the {VhostUserMemory.MaxRegions} regions of a vhost-user memory table"),
                nameof(txPools));
        }

        _activePairs = options.QueuePairs;
        _wake = new EventFd();
    }

    /// <summary>Raised (on the monitor thread) when the backend goes away.</summary>
    public event EventHandler<VhostUserDisconnectedEventArgs>? Disconnected;

    /// <summary>Raised when a new backend connection is set up again (server mode by itself, client mode by <see cref="Reconnect"/>).</summary>
    public event EventHandler? Reconnected;

    /// <summary>The options.</summary>
    public VhostUserFrontendOptions Options { get; }

    /// <summary>True while a backend is connected and set up.</summary>
    public bool IsConnected => Volatile.Read(ref _socket) is not null;

    /// <summary>Connections set up so far (1 after <see cref="Connect"/>, +1 per reconnection).</summary>
    public long ConnectionCount => Interlocked.Read(ref _connections);

    /// <summary>The virtio features the backend offered (GET_FEATURES) on the last connection.</summary>
    public ulong OfferedFeatures { get; private set; }

    /// <summary>The virtio features set (SET_FEATURES).</summary>
    public ulong NegotiatedFeatures => _negotiated ?? 0;

    /// <summary>The protocol features the backend offered (0 without VHOST_USER_F_PROTOCOL_FEATURES).</summary>
    public VhostUserProtocolFeatures OfferedProtocolFeatures { get; private set; }

    /// <summary>The protocol features set (SET_PROTOCOL_FEATURES).</summary>
    public VhostUserProtocolFeatures NegotiatedProtocolFeatures { get; private set; }

    /// <summary>Queue pairs the backend supports (GET_QUEUE_NUM; 1 without VHOST_USER_PROTOCOL_F_MQ).</summary>
    public int MaxQueuePairs { get; private set; } = 1;

    /// <summary>Queue pairs set up (<see cref="VhostUserFrontendOptions.QueuePairs"/>).</summary>
    public int QueuePairs => Options.QueuePairs;

    /// <summary>Queue pairs enabled (<see cref="SetActiveQueuePairs"/>).</summary>
    public int ActiveQueuePairs => Volatile.Read(ref _activePairs);

    /// <summary>True when the rings are packed.</summary>
    public bool IsPacked => VirtioFeatures.IsSet(NegotiatedFeatures, VirtioFeatures.RingPacked);

    /// <summary>The memory shared with the backend (ring area first).</summary>
    public FrontendMemoryTable MemoryTable => _memory ?? throw new InvalidOperationException("not set up");

    /// <summary>The last error seen by the monitor thread (a failed automatic reconnection, an event handler that threw).</summary>
    public Exception? LastError => Volatile.Read(ref _lastError);

    /// <summary>The requests of the last setup, in the order sent.</summary>
    public IReadOnlyList<VhostUserRequest> LastHandshake => Volatile.Read(ref _lastHandshake);

    /// <summary>
    /// Connects (or, in server mode, listens and waits for the backend), negotiates and sets up every queue pair.
    /// Receive rings are filled from <paramref name="rxPool"/>; packets transmitted must lie in
    /// <paramref name="rxPool"/>'s or one of <paramref name="txPools"/>' regions (all shareable memfds, at most 7).
    /// </summary>
    /// <exception cref="ArgumentException">Bad options, or a pool that cannot be shared.</exception>
    /// <exception cref="TimeoutException">No backend within <see cref="VhostUserFrontendOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="VhostUserFrontendException">The backend lacks a required feature, refused a request, or answered wrongly.</exception>
    /// <exception cref="LinuxException">A socket call failed (path in use, permission).</exception>
    public static VhostUserFrontend Connect(VhostUserFrontendOptions options, Mempool rxPool, params ReadOnlySpan<Mempool> txPools)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rxPool);
        Mempool[] rxPools = new Mempool[Math.Max(options.QueuePairs, 1)];
        Array.Fill(rxPools, rxPool);
        return Connect(options, rxPools, txPools);
    }

    /// <summary>
    /// As <see cref="Connect(VhostUserFrontendOptions, Mempool, ReadOnlySpan{Mempool})"/>, with one receive pool per
    /// queue pair (<paramref name="rxPools"/>[q] fills pair q's receive ring), as an ethdev sets up each Rx queue
    /// with its own pool.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options, not one pool per pair, or a pool that cannot be shared.</exception>
    public static VhostUserFrontend Connect(VhostUserFrontendOptions options, IReadOnlyList<Mempool> rxPools, params ReadOnlySpan<Mempool> txPools)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rxPools);
        options.Validate();
        if (rxPools.Count != options.QueuePairs)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{rxPools.Count} receive pools for {options.QueuePairs} queue pairs: give one per pair"), nameof(rxPools));
        }

        Mempool[] pools = [.. rxPools];
        foreach (Mempool pool in pools)
        {
            ArgumentNullException.ThrowIfNull(pool, nameof(rxPools));
        }

        var frontend = new VhostUserFrontend(options, pools, txPools);
        try
        {
            frontend.Open();
            return frontend;
        }
        catch
        {
            frontend.Dispose();
            throw;
        }
    }

    /// <summary>The receive queue of pair <paramref name="queuePair"/>.</summary>
    public IVirtioDriverQueue RxQueue(int queuePair) => _rx[queuePair];

    /// <summary>The transmit queue of pair <paramref name="queuePair"/>.</summary>
    public IVirtioDriverQueue TxQueue(int queuePair) => _tx[queuePair];

    /// <summary>Receives on pair <paramref name="queuePair"/> (see <see cref="IVirtioDriverQueue.Receive"/>); 0 for a pair that does not exist.</summary>
    public int Receive(int queuePair, Span<Mbuf> packets)
    {
        IVirtioDriverQueue[] rx = _rx;
        return (uint)queuePair < (uint)rx.Length ? rx[queuePair].Receive(packets) : 0;
    }

    /// <summary>Transmits on pair <paramref name="queuePair"/> (see <see cref="IVirtioDriverQueue.Transmit"/>); 0 for a pair that does not exist.</summary>
    public int Transmit(int queuePair, ReadOnlySpan<Mbuf> packets)
    {
        IVirtioDriverQueue[] tx = _tx;
        return (uint)queuePair < (uint)tx.Length ? tx[queuePair].Transmit(packets) : 0;
    }

    /// <summary>
    /// Enables pairs 0..<paramref name="pairs"/>-1 and disables the others (SET_VRING_ENABLE on both vrings of each),
    /// what DPDK's virtio_user does for VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET. Kept across reconnections.
    /// </summary>
    /// <exception cref="NotSupportedException">VHOST_USER_F_PROTOCOL_FEATURES was not negotiated (rings are always enabled then).</exception>
    public void SetActiveQueuePairs(int pairs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairs, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pairs, Options.QueuePairs);
        lock (_control)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (!VirtioFeatures.IsSet(NegotiatedFeatures, VirtioFeatures.VhostUserProtocolFeatures))
            {
                throw new NotSupportedException("the backend did not negotiate VHOST_USER_F_PROTOCOL_FEATURES: its rings are enabled as soon as they are set up and SET_VRING_ENABLE is not available");
            }

            if (_socket is { } socket)
            {
                var channel = new VhostUserChannel(socket, Options.ReplyTimeout) { ReplyAck = _replyAck };
                try
                {
                    for (int i = 0; i < Options.QueuePairs; i++)
                    {
                        uint enable = i < pairs ? 1u : 0u;
                        channel.Send(VhostUserRequest.SetVringEnable, new VhostVringState((uint)(2 * i), enable));
                        channel.Send(VhostUserRequest.SetVringEnable, new VhostVringState((uint)((2 * i) + 1), enable));
                    }
                }
                catch (VhostUserFrontendException) when (channel.IsBroken)
                {
                    DropConnection(socket);
                    throw;
                }
            }

            Volatile.Write(ref _activePairs, pairs);
        }
    }

    /// <summary>
    /// Client mode, after <see cref="Disconnected"/>: connects again (retrying until
    /// <see cref="VhostUserFrontendOptions.ConnectTimeout"/>) and replays the setup with the features of the first
    /// connection. The queues restart empty.
    /// </summary>
    /// <exception cref="InvalidOperationException">Server mode (it reconnects by itself), or still connected.</exception>
    /// <exception cref="VhostUserFrontendException">The new backend lacks a feature negotiated before, refused a request, or answered wrongly.</exception>
    public void Reconnect() => Reconnect(Options.ConnectTimeout);

    /// <summary>
    /// As <see cref="Reconnect()"/>, retrying to connect for at most <paramref name="timeout"/> (a caller that retries
    /// by itself, such as the virtio_user port, keeps each attempt short so that it can stop quickly).
    /// </summary>
    /// <exception cref="InvalidOperationException">Server mode (it reconnects by itself), or still connected.</exception>
    /// <exception cref="VhostUserFrontendException">The new backend lacks a feature negotiated before, refused a request, or answered wrongly.</exception>
    public void Reconnect(TimeSpan timeout)
    {
        if (Options.Server)
        {
            throw new InvalidOperationException($"the frontend on {Options.Path} is in server mode: it takes the backend back by itself when it connects again");
        }

        lock (_control)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_socket is not null)
            {
                throw new InvalidOperationException($"the frontend is still connected to {Options.Path}");
            }

            UnixStreamSocket socket = UnixStreamSocket.Connect(Options.Path, timeout);
            try
            {
                Establish(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            Volatile.Write(ref _socket, socket);
            Interlocked.Increment(ref _connections);
        }

        _ = _wake.Signal(); // the monitor watches the new socket
        RaiseReconnected();
    }

    /// <summary>
    /// Stops the rings in the backend (SET_VRING_ENABLE 0, GET_VRING_BASE), closes the connection (and the listening
    /// socket), frees every buffer in flight and unmaps the ring area. Mempools stay the caller's.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_control)
        {
            if (_socket is { } socket)
            {
                StopBackendRings(socket);
                try
                {
                    socket.Shutdown();
                }
                catch (LinuxException)
                {
                }
            }
        }

        _ = _wake.Signal();
        _monitor?.Join(TimeSpan.FromSeconds(5));
        lock (_control)
        {
            _socket?.Dispose();
            Volatile.Write(ref _socket, null);
        }

        _listener?.Dispose();
        foreach (IVirtioDriverQueue q in _rx)
        {
            q.Dispose();
        }

        foreach (IVirtioDriverQueue q in _tx)
        {
            q.Dispose();
        }

        _area?.Dispose();
        _wake.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"virtio_user {Options.Path} ({(Options.Server ? "server" : "client")}, {Options.QueuePairs} pairs x {Options.QueueSize}, features 0x{NegotiatedFeatures:X}, {(IsConnected ? "connected" : "disconnected")})");

    private void Open()
    {
        UnixStreamSocket socket;
        if (Options.Server)
        {
            _listener = UnixStreamSocket.Listen(Options.Path);
            socket = _listener.Accept(Options.ConnectTimeout)
                ?? throw new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"no vhost-user backend connected to {Options.Path} within {Options.ConnectTimeout.TotalMilliseconds:0} ms (server mode)"));
        }
        else
        {
            socket = UnixStreamSocket.Connect(Options.Path, Options.ConnectTimeout);
        }

        lock (_control)
        {
            try
            {
                Establish(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            Volatile.Write(ref _socket, socket);
            Interlocked.Increment(ref _connections);
        }

        _monitor = new Thread(Monitor) { IsBackground = true, Name = "vhost-user frontend monitor" };
        _monitor.Start();
    }

    /// <summary>The whole setup on a fresh connection (see the class remarks for the sequence). Caller holds the control lock.</summary>
    private void Establish(UnixStreamSocket socket)
    {
        bool reconnecting = _rx.Length > 0;
        if (reconnecting)
        {
            StopAndResetQueues(throwOnTimeout: true);
        }

        var channel = new VhostUserChannel(socket, Options.ReplyTimeout);
        try
        {
            EstablishCore(channel);
        }
        catch
        {
            if (_rx.Length > 0)
            {
                StopAndResetQueues(throwOnTimeout: false); // drop the buffers the failed setup posted
            }

            throw;
        }
        finally
        {
            Volatile.Write(ref _lastHandshake, [.. channel.Sent]);
        }

        foreach (IVirtioDriverQueue q in _rx)
        {
            q.Start();
        }

        foreach (IVirtioDriverQueue q in _tx)
        {
            q.Start();
        }
    }

    private void EstablishCore(VhostUserChannel channel)
    {
        channel.Send(VhostUserRequest.SetOwner);
        ulong offered = channel.Get(VhostUserRequest.GetFeatures);
        ulong negotiated = FrontendFeatures.Negotiate(offered, Options, _negotiated);

        var protocolOffered = VhostUserProtocolFeatures.None;
        var protocol = VhostUserProtocolFeatures.None;
        if (VirtioFeatures.IsSet(negotiated, VirtioFeatures.VhostUserProtocolFeatures))
        {
            protocolOffered = (VhostUserProtocolFeatures)channel.Get(VhostUserRequest.GetProtocolFeatures);
            protocol = protocolOffered & FrontendFeatures.Supported;
            channel.Send(VhostUserRequest.SetProtocolFeatures, (ulong)protocol, acknowledged: false);
            channel.ReplyAck = (protocol & VhostUserProtocolFeatures.ReplyAck) != 0;
        }

        int maxPairs = 1;
        ulong queueNum = 0;
        if ((protocol & VhostUserProtocolFeatures.Mq) != 0)
        {
            queueNum = channel.Get(VhostUserRequest.GetQueueNum);
            maxPairs = (int)Math.Min(queueNum, VhostUserFrontendOptions.MaxQueuePairs);
        }

        if (Options.QueuePairs > 1)
        {
            if ((protocol & VhostUserProtocolFeatures.Mq) == 0)
            {
                throw new VhostUserFrontendException(
                    VhostUserRequest.GetProtocolFeatures,
                    string.Create(CultureInfo.InvariantCulture, $"{Options.QueuePairs} queue pairs need VHOST_USER_PROTOCOL_F_MQ (GET_QUEUE_NUM), which the backend does not offer (protocol features 0x{(ulong)protocolOffered:X})"));
            }

            if (maxPairs < Options.QueuePairs)
            {
                throw new VhostUserFrontendException(
                    VhostUserRequest.GetQueueNum,
                    string.Create(CultureInfo.InvariantCulture, $"the backend supports {queueNum} queue pairs, {Options.QueuePairs} requested"));
            }
        }

        if (_rx.Length == 0)
        {
            CreateQueues(negotiated);
        }

        foreach (IVirtioDriverQueue q in _rx)
        {
            q.Fill();
        }

        IVirtioDriverQueue[] order = [.. _rx, .. _tx]; // receive vrings first, as DPDK's virtio_user
        foreach (IVirtioDriverQueue q in order)
        {
            channel.SetVringFile(VhostUserRequest.SetVringCall, q.VringIndex, q.CallFd);
        }

        channel.Send(VhostUserRequest.SetFeatures, negotiated);
        channel.SetMemTable(_memory!);
        foreach (IVirtioDriverQueue q in order)
        {
            channel.Send(VhostUserRequest.SetVringNum, new VhostVringState((uint)q.VringIndex, (uint)q.Size));
            channel.Send(VhostUserRequest.SetVringBase, new VhostVringState((uint)q.VringIndex, q.InitialBase));
            channel.SetVringAddr(q.RingAddress);
            channel.SetVringFile(VhostUserRequest.SetVringKick, q.VringIndex, q.KickFd);
        }

        if (VirtioFeatures.IsSet(negotiated, VirtioFeatures.VhostUserProtocolFeatures))
        {
            int active = Volatile.Read(ref _activePairs);
            for (int i = 0; i < active; i++)
            {
                channel.Send(VhostUserRequest.SetVringEnable, new VhostVringState((uint)(2 * i), 1));
                channel.Send(VhostUserRequest.SetVringEnable, new VhostVringState((uint)((2 * i) + 1), 1));
            }
        }

        OfferedFeatures = offered;
        _negotiated = negotiated;
        OfferedProtocolFeatures = protocolOffered;
        NegotiatedProtocolFeatures = protocol;
        MaxQueuePairs = maxPairs;
        _replyAck = channel.ReplyAck;
    }

    private void CreateQueues(ulong negotiated)
    {
        bool packed = VirtioFeatures.IsSet(negotiated, VirtioFeatures.RingPacked);
        int pairs = Options.QueuePairs;
        int size = Options.QueueSize;
        long perQueue = packed ? PackedDriverQueue.RingAreaBytes(size) : SplitDriverQueue.RingAreaBytes(size);
        _area = DriverRingArea.Create(Options.Name + "-rings", perQueue * 2 * pairs);
        _memory = new FrontendMemoryTable([_area.Region, .. _poolRegions]);
        var rx = new IVirtioDriverQueue[pairs];
        var tx = new IVirtioDriverQueue[pairs];
        for (int i = 0; i < pairs; i++)
        {
            rx[i] = CreateQueue(packed, 2 * i, DriverQueueRole.Receive, negotiated);
            tx[i] = CreateQueue(packed, (2 * i) + 1, DriverQueueRole.Transmit, negotiated);
        }

        _rx = rx;
        _tx = tx;
    }

    private IVirtioDriverQueue CreateQueue(bool packed, int vring, DriverQueueRole role, ulong negotiated)
    {
        var setup = new DriverQueueSetup
        {
            VringIndex = vring,
            Size = Options.QueueSize,
            Role = role,
            Features = negotiated,
            RxPool = role == DriverQueueRole.Receive ? _rxPools[vring / 2] : null,
            Port = Options.Port,
        };
        return packed ? new PackedDriverQueue(_area!, _memory!, setup) : new SplitDriverQueue(_area!, _memory!, setup);
    }

    /// <summary>Takes every queue from the data path and resets it (buffers in flight go back to their pools). Caller holds the control lock.</summary>
    private void StopAndResetQueues(bool throwOnTimeout)
    {
        foreach (IVirtioDriverQueue q in (IVirtioDriverQueue[])[.. _rx, .. _tx])
        {
            if (q.Stop(QueueStopTimeout))
            {
                q.Reset();
            }
            else if (throwOnTimeout)
            {
                throw new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{q} stayed in a burst for {QueueStopTimeout.TotalMilliseconds:0} ms: cannot reset it for the new connection"));
            }
            else
            {
                Volatile.Write(ref _lastError, new TimeoutException($"{q} stayed in a burst: not reset"));
            }
        }
    }

    /// <summary>DPDK's virtio_user_stop_device: disable every vring, then GET_VRING_BASE each (the backend stops it). Errors are ignored.</summary>
    private void StopBackendRings(UnixStreamSocket socket)
    {
        TimeSpan timeout = Options.ReplyTimeout < TeardownTimeout ? Options.ReplyTimeout : TeardownTimeout;
        var channel = new VhostUserChannel(socket, timeout) { ReplyAck = _replyAck };
        try
        {
            if (VirtioFeatures.IsSet(NegotiatedFeatures, VirtioFeatures.VhostUserProtocolFeatures))
            {
                for (int v = 0; v < 2 * _rx.Length; v++)
                {
                    channel.Send(VhostUserRequest.SetVringEnable, new VhostVringState((uint)v, 0));
                }
            }

            for (int v = 0; v < 2 * _rx.Length; v++)
            {
                _ = channel.GetVringBase(v);
            }
        }
        catch (VhostUserFrontendException)
        {
            // The backend is gone or misbehaving: the connection closes anyway.
        }
    }

    /// <summary>Shuts a connection down so the monitor thread processes the disconnection.</summary>
    private static void DropConnection(UnixStreamSocket socket)
    {
        try
        {
            socket.Shutdown();
        }
        catch (Exception e) when (e is LinuxException or ObjectDisposedException)
        {
        }
    }

    private void Monitor()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                UnixStreamSocket? socket;
                lock (_control)
                {
                    socket = _socket;
                }

                if (socket is not null)
                {
                    Watch(socket);
                }
                else if (Options.Server)
                {
                    AcceptBackend();
                }
                else
                {
                    WaitForWake();
                }
            }
#pragma warning disable CA1031 // whatever goes wrong is recorded; an exception escaping this thread would end the process
            catch (Exception e)
#pragma warning restore CA1031
            {
                Volatile.Write(ref _lastError, e);
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Waits until the socket hangs up (then processes the disconnection) or the wake eventfd fires.</summary>
    private void Watch(UnixStreamSocket socket)
    {
        const ulong SocketTag = 1;
        const ulong WakeTag = 2;
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        using var epoll = new Epoll();
        epoll.Add(socket.Handle, EpollEvents.RdHup | EpollEvents.Hup | EpollEvents.Err, SocketTag);
        epoll.Add(_wake.Handle, EpollEvents.In, WakeTag);
        int n = epoll.Wait(events, -1);
        EpollEvents seen = EpollEvents.None;
        for (int i = 0; i < n; i++)
        {
            if (events[i].Data == WakeTag)
            {
                _ = _wake.TryRead(out _);
            }
            else
            {
                seen |= events[i].Events;
            }
        }

        if (seen != EpollEvents.None)
        {
            string reason = (seen & EpollEvents.Err) != 0 ? "the connection failed (EPOLLERR)"
                : (seen & EpollEvents.Hup) != 0 ? "the backend closed the connection (EPOLLHUP)"
                : "the backend shut the connection down (EPOLLRDHUP)";
            OnSocketClosed(socket, reason);
        }
    }

    private void WaitForWake()
    {
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        using var epoll = new Epoll();
        epoll.Add(_wake.Handle, EpollEvents.In, 0);
        if (epoll.Wait(events, -1) > 0)
        {
            _ = _wake.TryRead(out _);
        }
    }

    private void OnSocketClosed(UnixStreamSocket socket, string reason)
    {
        lock (_control)
        {
            if (!ReferenceEquals(_socket, socket))
            {
                return;
            }

            Volatile.Write(ref _socket, null);
            socket.Dispose();
            StopAndResetQueues(throwOnTimeout: false);
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            Disconnected?.Invoke(this, new VhostUserDisconnectedEventArgs(reason, Options.Server));
        }
#pragma warning disable CA1031 // a handler's exception must not end the monitor thread (and the process)
        catch (Exception e)
#pragma warning restore CA1031
        {
            Volatile.Write(ref _lastError, e);
        }
    }

    /// <summary>Server mode: waits a little for the backend to connect again and, when it does, sets it up.</summary>
    private void AcceptBackend()
    {
        UnixStreamSocket? socket = _listener!.Accept(AcceptSlice);
        if (socket is null)
        {
            return;
        }

        lock (_control)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                socket.Dispose();
                return;
            }

            try
            {
                Establish(socket);
            }
            catch (Exception e) when (e is VhostUserFrontendException or LinuxException or TimeoutException)
            {
                Volatile.Write(ref _lastError, e);
                socket.Dispose();
                return;
            }

            Volatile.Write(ref _socket, socket);
            Interlocked.Increment(ref _connections);
        }

        RaiseReconnected();
    }

    private void RaiseReconnected()
    {
        try
        {
            Reconnected?.Invoke(this, EventArgs.Empty);
        }
#pragma warning disable CA1031 // a handler's exception must not end the monitor thread (and the process)
        catch (Exception e)
#pragma warning restore CA1031
        {
            Volatile.Write(ref _lastError, e);
        }
    }
}
