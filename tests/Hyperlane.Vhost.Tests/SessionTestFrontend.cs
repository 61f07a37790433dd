using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A small vhost-user frontend for the session tests: encodes requests with <see cref="VhostUserMessageEncoder"/>,
/// sends them (with fds) on a <see cref="UnixStreamSocket"/>, and reads and checks replies with
/// <see cref="VhostUserMessageDecoder.TryDecodeReply"/>. Set requests go with NEED_REPLY by default, so that when a
/// call returns the backend has handled the request.
/// </summary>
internal sealed class SessionTestFrontend : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly byte[] _buffer = new byte[VhostUserMessageEncoder.MaxMessageSize + 4096];

    public SessionTestFrontend(UnixStreamSocket socket)
    {
        Socket = socket;
    }

    public UnixStreamSocket Socket { get; }

    public static SessionTestFrontend Connect(string path) => new(UnixStreamSocket.Connect(path, Timeout));

    /// <summary>Sends raw bytes (a hostile message) with <paramref name="fds"/>.</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes, params SafeFd[] fds) => Socket.Send(bytes, fds.AsSpan(), Timeout, "test message");

    /// <summary>A header (12 bytes) with any values, then <paramref name="payload"/>.</summary>
    public static byte[] Raw(uint request, uint flags, uint size, ReadOnlySpan<byte> payload = default)
    {
        var bytes = new byte[VhostUserHeader.Size + payload.Length];
        var header = new VhostUserHeader(request, flags, size);
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes.AsSpan(VhostUserHeader.Size));
        return bytes;
    }

    public ulong GetU64(VhostUserRequest request)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, request);
        Socket.Send(_buffer.AsSpan(0, n), Timeout);
        return ReadReply(request).U64;
    }

    public void SetU64(VhostUserRequest request, ulong value, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, request, value, needReply);
        SendAndAck(request, n, needReply);
    }

    public void Request(VhostUserRequest request, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, request, needReply);
        SendAndAck(request, n, needReply);
    }

    public void SetVringState(VhostUserRequest request, uint index, uint num, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, request, new VhostVringState(index, num), needReply);
        SendAndAck(request, n, needReply);
    }

    public uint GetVringBase(uint index)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.GetVringBase, new VhostVringState(index, 0));
        Socket.Send(_buffer.AsSpan(0, n), Timeout);
        VhostVringState state = ReadReply(VhostUserRequest.GetVringBase).VringState;
        Assert.Equal(index, state.Index);
        return state.Num;
    }

    public void SetVringAddr(VhostVringAddr addr, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeSetVringAddr(_buffer, addr, needReply);
        SendAndAck(VhostUserRequest.SetVringAddr, n, needReply);
    }

    public void SetVringFile(VhostUserRequest request, uint index, SafeFd? fd, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeVringFile(_buffer, request, index, fd is not null, needReply);
        Socket.Send(_buffer.AsSpan(0, n), fd is null ? [] : new[] { fd }.AsSpan(), Timeout);
        ReadAckIf(request, needReply);
    }

    public void SetMemTable(VhostMemoryRegion[] regions, SafeFd[] fds, bool needReply = true)
    {
        int n = VhostUserMessageEncoder.EncodeSetMemTable(_buffer, regions, needReply);
        Socket.Send(_buffer.AsSpan(0, n), fds.AsSpan(), Timeout);
        ReadAckIf(VhostUserRequest.SetMemTable, needReply);
    }

    /// <summary>SET_LOG_BASE: the backend answers with an empty reply (DPDK), whatever NEED_REPLY says.</summary>
    public void SetLogBase(ulong size, ulong offset, SafeFd fd)
    {
        int n = VhostUserMessageEncoder.EncodeSetLogBase(_buffer, new VhostUserLog(size, offset));
        Socket.Send(_buffer.AsSpan(0, n), new[] { fd }.AsSpan(), Timeout);
        VhostUserMessage reply = ReadReply(VhostUserRequest.SetLogBase);
        Assert.Equal(0u, reply.Header.PayloadSize);
    }

    /// <summary>SET_OWNER, GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_FEATURES, as QEMU and virtio_user do.</summary>
    public void Negotiate(ulong features, VhostUserProtocolFeatures protocolFeatures)
    {
        Request(VhostUserRequest.SetOwner, needReply: false);
        ulong offered = GetU64(VhostUserRequest.GetFeatures);
        Assert.Equal(features, features & offered);
        if ((offered & (1UL << VirtioFeatures.VhostUserProtocolFeatures)) != 0)
        {
            ulong offeredProtocol = GetU64(VhostUserRequest.GetProtocolFeatures);
            Assert.Equal((ulong)protocolFeatures, (ulong)protocolFeatures & offeredProtocol);
            SetU64(VhostUserRequest.SetProtocolFeatures, (ulong)protocolFeatures);
        }

        SetU64(VhostUserRequest.SetFeatures, features);
    }

    /// <summary>SET_VRING_NUM, _BASE, _ADDR, _KICK (invalid-FD: poll), _CALL (invalid-FD) and, unless told not to, _ENABLE 1.</summary>
    public void SetupRing(uint index, uint size, uint baseIndex, VhostVringAddr addr, bool enable = true, SafeFd? call = null)
    {
        SetVringFile(VhostUserRequest.SetVringCall, index, call);
        SetVringState(VhostUserRequest.SetVringNum, index, size);
        SetVringState(VhostUserRequest.SetVringBase, index, baseIndex);
        SetVringAddr(addr);
        SetVringFile(VhostUserRequest.SetVringKick, index, null);
        if (enable)
        {
            SetVringState(VhostUserRequest.SetVringEnable, index, 1);
        }
    }

    public void SetupSplitRing(SessionSplitRing ring, bool log = false, bool enable = true) =>
        SetupRing((uint)ring.Index, (uint)ring.Size, ring.AvailIdx, ring.Addr(log), enable);

    /// <summary>Reads one reply to <paramref name="expected"/> and checks it (REPLY flag, same request, shape).</summary>
    public VhostUserMessage ReadReply(VhostUserRequest expected) => VhostReplies.Read(Socket, _buffer, Timeout, expected);

    /// <summary>Reads the acknowledgement of <paramref name="request"/> (u64: 0 success).</summary>
    public ulong ReadAck(VhostUserRequest request) => ReadReply(request).U64;

    /// <summary>
    /// Waits for the backend to close the connection: true at end of stream (or a reset), false when it stays open for
    /// <paramref name="timeout"/>. Bytes that arrive first (a failure acknowledgement) are skipped.
    /// </summary>
    public bool WaitForClose(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        var fds = new List<SafeFd>();
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                int n = Socket.Receive(_buffer, fds, 8, left, "the backend closing the connection");
                if (n == 0)
                {
                    return true;
                }
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (LinuxException)
            {
                return true; // ECONNRESET
            }
            finally
            {
                foreach (SafeFd fd in fds)
                {
                    fd.Dispose();
                }

                fds.Clear();
            }
        }
    }

    public void Dispose() => Socket.Dispose();

    private void SendAndAck(VhostUserRequest request, int length, bool needReply)
    {
        Socket.Send(_buffer.AsSpan(0, length), Timeout);
        ReadAckIf(request, needReply);
    }

    private void ReadAckIf(VhostUserRequest request, bool needReply)
    {
        if (needReply)
        {
            Assert.Equal(0UL, ReadAck(request));
        }
    }
}
