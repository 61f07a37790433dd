using System.Globalization;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The frontend's end of a vhost-user connection (vhost-user.rst "Communication"): sends requests with
/// <see cref="VhostUserMessageEncoder"/> and their fds, reads replies and checks each with
/// <see cref="VhostUserMessageDecoder.TryDecodeReply"/>. Once REPLY_ACK is negotiated (<see cref="ReplyAck"/>) every
/// request without a reply of its own carries NEED_REPLY and its acknowledgement is awaited. Every wait has the reply
/// timeout; every failure is a <see cref="VhostUserFrontendException"/> naming the request and what the backend answered.
/// </summary>
internal sealed class VhostUserChannel
{
    private readonly UnixStreamSocket _socket;
    private readonly TimeSpan _timeout;
    private readonly byte[] _buffer = new byte[VhostUserMessageEncoder.MaxMessageSize];

    public VhostUserChannel(UnixStreamSocket socket, TimeSpan timeout)
    {
        _socket = socket;
        _timeout = timeout;
    }

    /// <summary>REPLY_ACK is negotiated: requests without a reply are acknowledged.</summary>
    public bool ReplyAck { get; set; }

    /// <summary>
    /// True once an exchange failed in a way that leaves the stream out of step (a send or read failed, timed out, or
    /// the reply was invalid): the connection must be dropped. A refusal (REPLY_ACK status) leaves it usable.
    /// </summary>
    public bool IsBroken { get; private set; }

    /// <summary>Every request sent, in order (for diagnostics).</summary>
    public List<VhostUserRequest> Sent { get; } = [];

    /// <summary>A request without payload (SET_OWNER, RESET_OWNER).</summary>
    public void Send(VhostUserRequest request)
    {
        int length = VhostUserMessageEncoder.EncodeRequest(_buffer, request, ReplyAck);
        Exchange(request, length, []);
    }

    /// <summary>A request with a u64 payload (SET_FEATURES, SET_PROTOCOL_FEATURES).</summary>
    public void Send(VhostUserRequest request, ulong value, bool acknowledged = true)
    {
        bool needReply = ReplyAck && acknowledged;
        int length = VhostUserMessageEncoder.EncodeRequest(_buffer, request, value, needReply);
        Exchange(request, length, [], needReply);
    }

    /// <summary>A request with a vring state payload (SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE).</summary>
    public void Send(VhostUserRequest request, VhostVringState state)
    {
        int length = VhostUserMessageEncoder.EncodeRequest(_buffer, request, state, ReplyAck);
        Exchange(request, length, []);
    }

    /// <summary>SET_VRING_ADDR.</summary>
    public void SetVringAddr(VhostVringAddr address)
    {
        int length = VhostUserMessageEncoder.EncodeSetVringAddr(_buffer, address, ReplyAck);
        Exchange(VhostUserRequest.SetVringAddr, length, []);
    }

    /// <summary>SET_VRING_KICK / SET_VRING_CALL with the eventfd.</summary>
    public void SetVringFile(VhostUserRequest request, int vringIndex, EventFd eventFd)
    {
        int length = VhostUserMessageEncoder.EncodeVringFile(_buffer, request, (uint)vringIndex, hasFd: true, ReplyAck);
        Exchange(request, length, [eventFd.Handle]);
    }

    /// <summary>SET_MEM_TABLE: one region per memfd, the fds in the same order.</summary>
    public void SetMemTable(FrontendMemoryTable memory)
    {
        Span<VhostMemoryRegion> regions = stackalloc VhostMemoryRegion[memory.Count];
        var fds = new SafeFd[memory.Count];
        for (int i = 0; i < memory.Count; i++)
        {
            regions[i] = memory.Describe(i);
            fds[i] = memory.Fd(i);
        }

        int length = VhostUserMessageEncoder.EncodeSetMemTable(_buffer, regions, ReplyAck);
        Exchange(VhostUserRequest.SetMemTable, length, fds);
    }

    /// <summary>A request answered with a u64 (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM).</summary>
    public ulong Get(VhostUserRequest request)
    {
        int length = VhostUserMessageEncoder.EncodeRequest(_buffer, request);
        SendBytes(request, length, []);
        return ReadReply(request).U64;
    }

    /// <summary>GET_VRING_BASE: stops the ring in the backend and returns where it stopped.</summary>
    public VhostVringState GetVringBase(int vringIndex)
    {
        int length = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.GetVringBase, new VhostVringState((uint)vringIndex, 0));
        SendBytes(VhostUserRequest.GetVringBase, length, []);
        return ReadReply(VhostUserRequest.GetVringBase).VringState;
    }

    private void Exchange(VhostUserRequest request, int length, ReadOnlySpan<SafeFd> fds) => Exchange(request, length, fds, ReplyAck);

    private void Exchange(VhostUserRequest request, int length, ReadOnlySpan<SafeFd> fds, bool needReply)
    {
        SendBytes(request, length, fds);
        if (!needReply)
        {
            return;
        }

        ulong status = ReadReply(request).U64;
        if (status != 0)
        {
            throw new VhostUserFrontendException(
                request,
                string.Create(CultureInfo.InvariantCulture, $"the backend refused the request (REPLY_ACK status {status}, 0x{status:X})"));
        }
    }

    private void SendBytes(VhostUserRequest request, int length, ReadOnlySpan<SafeFd> fds)
    {
        Sent.Add(request);
        try
        {
            _socket.Send(_buffer.AsSpan(0, length), fds, _timeout, VhostUserRequestInfo.SpecName(request));
        }
        catch (Exception e) when (e is LinuxException or TimeoutException or ObjectDisposedException)
        {
            IsBroken = true;
            throw new VhostUserFrontendException(request, $"sending to the backend failed: {e.Message}", e);
        }
    }

    private VhostUserMessage ReadReply(VhostUserRequest request)
    {
        string name = VhostUserRequestInfo.SpecName(request);
        IsBroken = true; // until a valid reply is in
        Span<byte> header = stackalloc byte[VhostUserHeader.Size];
        byte[] payload;
        try
        {
            _socket.ReceiveExact(header, _timeout, name + " reply header");
            uint size = MemoryMarshal.Read<VhostUserHeader>(header).PayloadSize;
            if (size > VhostUserMessageDecoder.MaxPayloadSize)
            {
                throw new VhostUserFrontendException(
                    request,
                    string.Create(CultureInfo.InvariantCulture, $"the backend's reply announces a {size}-byte payload, more than the largest vhost-user payload ({VhostUserMessageDecoder.MaxPayloadSize})"));
            }

            payload = new byte[size];
            if (size > 0)
            {
                _socket.ReceiveExact(payload, _timeout, name + " reply payload");
            }
        }
        catch (TimeoutException e)
        {
            throw new VhostUserFrontendException(
                request,
                string.Create(CultureInfo.InvariantCulture, $"no reply from the backend within {_timeout.TotalMilliseconds:0} ms"),
                e);
        }
        catch (EndOfStreamException e)
        {
            throw new VhostUserFrontendException(request, "the backend closed the connection instead of replying", e);
        }
        catch (Exception e) when (e is LinuxException or ObjectDisposedException)
        {
            throw new VhostUserFrontendException(request, $"reading the backend's reply failed: {e.Message}", e);
        }

        if (!VhostUserMessageDecoder.TryDecodeReply(header, payload, 0, request, out VhostUserMessage? reply, out _, out string? error))
        {
            throw new VhostUserFrontendException(request, $"the backend's reply is invalid: {error}");
        }

        IsBroken = false;
        return reply;
    }
}
