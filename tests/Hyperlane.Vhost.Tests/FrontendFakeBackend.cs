using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A vhost-user backend for frontend tests: accepts (or, for a server-mode frontend, connects), checks every request
/// with <see cref="VhostUserMessageDecoder.TryDecode"/> (so the frontend's messages are held to the spec), answers
/// GET_FEATURES / GET_PROTOCOL_FEATURES / GET_QUEUE_NUM / GET_VRING_BASE and NEED_REPLY acknowledgements, maps the
/// memory table's memfds and records the vrings, so tests can reach the rings through the addresses it was given.
/// </summary>
internal sealed class FrontendFakeBackend : IDisposable
{
    public const ulong DpdkLikeFeatures =
        (1UL << VirtioFeatures.NetMrgRxbuf) | (1UL << VirtioFeatures.RingIndirectDesc) | (1UL << VirtioFeatures.VhostUserProtocolFeatures) |
        (1UL << VirtioFeatures.Version1) | (1UL << VirtioFeatures.InOrder) | (1UL << VirtioFeatures.RingPacked) | (1UL << VirtioFeatures.NetMq) |
        (1UL << VirtioFeatures.NetCtrlVq) | (1UL << VirtioFeatures.RingEventIdx) | (1UL << VirtioFeatures.NetCsum);

    private readonly Lock _lock = new();
    private readonly UnixStreamSocket? _listener;
    private readonly string _path;
    private readonly bool _connect;
    private readonly Thread _thread;
    private UnixStreamSocket? _socket;
    private volatile bool _stopping;

    private FrontendFakeBackend(string path, bool connect)
    {
        _path = path;
        _connect = connect;
        if (!connect)
        {
            _listener = UnixStreamSocket.Listen(path);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "fake vhost-user backend" };
    }

    public ulong Features { get; set; } = DpdkLikeFeatures;

    public VhostUserProtocolFeatures Protocol { get; set; } =
        VhostUserProtocolFeatures.Mq | VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Status | VhostUserProtocolFeatures.LogShmfd;

    public ulong QueueNum { get; set; } = 4;

    /// <summary>Acknowledge this request's NEED_REPLY with status 1 (a refusal).</summary>
    public VhostUserRequest FailAck { get; set; }

    /// <summary>Close the connection when this request arrives (instead of answering).</summary>
    public VhostUserRequest CloseOn { get; set; }

    /// <summary>Answer this request's reply (or ack) with another request number.</summary>
    public VhostUserRequest WrongReplyTo { get; set; }

    public List<(VhostUserRequest Request, uint Flags, int Fds, ulong U64)> Received { get; } = [];

    public List<string> Errors { get; } = [];

    public ulong SetFeaturesValue { get; private set; }

    public ulong SetProtocolValue { get; private set; }

    public FrontendTestMemory? Memory { get; private set; }

    public Dictionary<uint, Vring> Vrings { get; } = [];

    public ManualResetEventSlim Closed { get; } = new();

    /// <summary>A backend listening on <paramref name="path"/> (the frontend connects: client mode).</summary>
    public static FrontendFakeBackend Listen(string path, Action<FrontendFakeBackend>? configure = null)
    {
        var backend = new FrontendFakeBackend(path, connect: false);
        configure?.Invoke(backend);
        backend._thread.Start();
        return backend;
    }

    /// <summary>A backend that connects to a server-mode frontend listening on <paramref name="path"/>.</summary>
    public static FrontendFakeBackend ConnectTo(string path, Action<FrontendFakeBackend>? configure = null)
    {
        var backend = new FrontendFakeBackend(path, connect: true);
        configure?.Invoke(backend);
        backend._thread.Start();
        return backend;
    }

    public List<VhostUserRequest> Requests()
    {
        lock (_lock)
        {
            return [.. Received.Select(r => r.Request)];
        }
    }

    public Vring Ring(uint index)
    {
        lock (_lock)
        {
            return Vrings[index];
        }
    }

    public FrontendSplitDevice SplitDevice(uint index)
    {
        Vring v = Ring(index);
        return new FrontendSplitDevice(Memory!, v.Addr, (int)v.Num);
    }

    public FrontendPackedDevice PackedDevice(uint index)
    {
        Vring v = Ring(index);
        return new FrontendPackedDevice(Memory!, v.Addr, (int)v.Num);
    }

    /// <summary>Waits until <paramref name="condition"/> holds (checked under the backend's lock).</summary>
    public void WaitUntil(Func<FrontendFakeBackend, bool> condition, int timeoutMs = 5000)
    {
        long end = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            lock (_lock)
            {
                if (condition(this))
                {
                    return;
                }
            }

            Assert.True(Environment.TickCount64 < end, "the fake backend did not reach the expected state");
            Thread.Sleep(5);
        }
    }

    /// <summary>Closes the connection (the frontend sees the socket hang up).</summary>
    public void Disconnect()
    {
        _stopping = true;
        lock (_lock)
        {
            _socket?.Shutdown();
        }

        Assert.True(Closed.Wait(5000));
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_lock)
        {
            try
            {
                _socket?.Shutdown();
            }
            catch (Exception e) when (e is LinuxException or ObjectDisposedException)
            {
            }
        }

        _thread.Join(5000);
        _listener?.Dispose();
        Memory?.Dispose();
        foreach (Vring v in Vrings.Values)
        {
            v.Kick?.Dispose();
            v.Call?.Dispose();
        }
    }

    private void Run()
    {
        try
        {
            UnixStreamSocket? socket = _connect
                ? UnixStreamSocket.Connect(_path, TimeSpan.FromSeconds(10))
                : _listener!.Accept(TimeSpan.FromSeconds(10));
            if (socket is null)
            {
                lock (_lock)
                {
                    Errors.Add("no frontend connected");
                }

                return;
            }

            lock (_lock)
            {
                _socket = socket;
            }

            try
            {
                Serve(socket);
            }
            finally
            {
                lock (_lock)
                {
                    _socket = null; // before closing: Dispose and Disconnect shut down only a live socket
                }

                socket.Dispose();
            }
        }
        catch (Exception e) when (!_stopping)
        {
            lock (_lock)
            {
                Errors.Add(e.ToString());
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            lock (_lock)
            {
                _socket = null;
            }

            Closed.Set();
        }
    }

    private void Serve(UnixStreamSocket socket)
    {
        var header = new byte[VhostUserHeader.Size];
        var fds = new List<SafeFd>();
        while (!_stopping)
        {
            fds.Clear();
            int got = socket.Receive(header, fds, 8, TimeSpan.FromSeconds(60), "request header");
            if (got == 0)
            {
                return; // the frontend closed
            }

            if (got < header.Length)
            {
                socket.ReceiveExact(header.AsSpan(got), TimeSpan.FromSeconds(5));
            }

            uint size = MemoryMarshal.Read<VhostUserHeader>(header).PayloadSize;
            if (size > VhostUserMessageDecoder.MaxPayloadSize)
            {
                lock (_lock)
                {
                    Errors.Add($"payload size {size}");
                }

                return;
            }

            var payload = new byte[size];
            if (size > 0)
            {
                socket.ReceiveExact(payload, TimeSpan.FromSeconds(5));
            }

            if (!VhostUserMessageDecoder.TryDecode(header, payload, fds.Count, out VhostUserMessage? message, out _, out string? error))
            {
                lock (_lock)
                {
                    Errors.Add(error);
                }

                fds.ForEach(f => f.Dispose());
                return;
            }

            if (message.Request == CloseOn && CloseOn != VhostUserRequest.None)
            {
                fds.ForEach(f => f.Dispose());
                return;
            }

            lock (_lock)
            {
                ulong u64 = message.PayloadKind is VhostUserPayloadKind.U64 or VhostUserPayloadKind.VringFile ? message.U64 : 0;
                Received.Add((message.Request, message.Header.Flags, fds.Count, u64));
                Handle(socket, message, fds);
            }
        }
    }

    private void Handle(UnixStreamSocket socket, VhostUserMessage message, List<SafeFd> fds)
    {
        VhostUserRequest request = message.Request;
        switch (request)
        {
            case VhostUserRequest.GetFeatures:
                Reply(socket, request, Features);
                break;
            case VhostUserRequest.GetProtocolFeatures:
                Reply(socket, request, (ulong)Protocol);
                break;
            case VhostUserRequest.GetQueueNum:
                Reply(socket, request, QueueNum);
                break;
            case VhostUserRequest.SetFeatures:
                SetFeaturesValue = message.U64;
                break;
            case VhostUserRequest.SetProtocolFeatures:
                SetProtocolValue = message.U64;
                break;
            case VhostUserRequest.SetMemTable:
                Memory?.Dispose();
                Memory = new FrontendTestMemory();
                for (int i = 0; i < fds.Count; i++)
                {
                    Memory.Add(message.MemoryRegions[i], fds[i]);
                }

                break;
            case VhostUserRequest.SetVringNum:
                VringOf(message.VringState.Index).Num = message.VringState.Num;
                break;
            case VhostUserRequest.SetVringBase:
                VringOf(message.VringState.Index).Base = message.VringState.Num;
                break;
            case VhostUserRequest.SetVringAddr:
                VringOf(message.VringAddr.Index).Addr = message.VringAddr;
                break;
            case VhostUserRequest.SetVringEnable:
                VringOf(message.VringState.Index).Enabled = message.VringState.Num == 1;
                break;
            case VhostUserRequest.SetVringKick:
                Vring kick = VringOf((uint)(message.U64 & 0xFF));
                kick.Kick?.Dispose();
                kick.Kick = fds.Count == 1 ? EventFd.FromDescriptor(fds[0]) : null;
                fds.Clear();
                break;
            case VhostUserRequest.SetVringCall:
                Vring call = VringOf((uint)(message.U64 & 0xFF));
                call.Call?.Dispose();
                call.Call = fds.Count == 1 ? EventFd.FromDescriptor(fds[0]) : null;
                fds.Clear();
                break;
            case VhostUserRequest.GetVringBase:
                VringOf(message.VringState.Index).Stopped = true;
                var state = new VhostVringState(message.VringState.Index, 0);
                Span<byte> buffer = stackalloc byte[VhostUserMessageEncoder.MaxMessageSize];
                int n = VhostUserMessageEncoder.EncodeReply(buffer, request, state);
                socket.Send(buffer[..n], TimeSpan.FromSeconds(5));
                break;
        }

        foreach (SafeFd fd in fds)
        {
            fd.Dispose(); // mapped or unused: the mapping stays valid
        }

        if (message.NeedReply && !VhostUserRequestInfo.HasReply(request))
        {
            Reply(socket, request, request == FailAck ? 1UL : 0UL);
        }
    }

    private void Reply(UnixStreamSocket socket, VhostUserRequest request, ulong value)
    {
        Span<byte> buffer = stackalloc byte[VhostUserMessageEncoder.MaxMessageSize];
        VhostUserRequest answer = request == WrongReplyTo && WrongReplyTo != VhostUserRequest.None ? VhostUserRequest.GetQueueNum : request;
        int n = VhostUserMessageEncoder.EncodeReply(buffer, answer, value);
        socket.Send(buffer[..n], TimeSpan.FromSeconds(5));
    }

    private Vring VringOf(uint index)
    {
        if (!Vrings.TryGetValue(index, out Vring? v))
        {
            v = new Vring();
            Vrings[index] = v;
        }

        return v;
    }

    internal sealed class Vring
    {
        public uint Num { get; set; }

        public uint Base { get; set; }

        public VhostVringAddr Addr { get; set; }

        public bool Enabled { get; set; }

        public bool Stopped { get; set; }

        public EventFd? Kick { get; set; }

        public EventFd? Call { get; set; }
    }
}
