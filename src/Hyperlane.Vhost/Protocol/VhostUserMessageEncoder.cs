using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// Writes vhost-user messages (vhost-user.rst "Message Specification"): the backend's replies (REPLY flag) and
/// the frontend's requests (for virtio_user). Each method writes header + payload into the destination and returns
/// the number of bytes written. The fds a request carries (SET_MEM_TABLE, SET_VRING_KICK...) travel in the
/// ancillary data of the same sendmsg, which is the caller's job.
/// </summary>
/// <remarks>
/// What is encoded always passes <see cref="VhostUserMessageDecoder"/>'s shape rules: a request whose payload
/// shape differs from the one the spec gives it, or a destination that is too small, is a programming error and
/// throws <see cref="ArgumentException"/>.
/// </remarks>
public static class VhostUserMessageEncoder
{
    /// <summary>The largest message: header + a full memory table (12 + 264 bytes).</summary>
    public const int MaxMessageSize = VhostUserHeader.Size + VhostUserMessageDecoder.MaxPayloadSize;

    /// <summary>A request without payload (GET_FEATURES, SET_OWNER, SET_LOG_FD, SET_BACKEND_REQ_FD, GET_STATUS...).</summary>
    public static int EncodeRequest(Span<byte> destination, VhostUserRequest request, bool needReply = false)
    {
        RequireRequest(request, VhostUserPayloadKind.None);
        return WriteHeader(destination, (uint)request, RequestFlags(needReply), 0);
    }

    /// <summary>A request whose payload is a u64 (SET_FEATURES, SET_PROTOCOL_FEATURES, NET_SET_MTU, SET_STATUS, SEND_RARP; or a raw vring-file u64).</summary>
    public static int EncodeRequest(Span<byte> destination, VhostUserRequest request, ulong value, bool needReply = false)
    {
        RequireRequest(request, VhostUserPayloadKind.U64, VhostUserPayloadKind.VringFile);
        return Write(destination, (uint)request, RequestFlags(needReply), value);
    }

    /// <summary>A request whose payload is a vring state (SET_VRING_NUM, SET/GET_VRING_BASE, SET_VRING_ENABLE, ...).</summary>
    public static int EncodeRequest(Span<byte> destination, VhostUserRequest request, in VhostVringState state, bool needReply = false)
    {
        RequireRequest(request, VhostUserPayloadKind.VringState);
        return Write(destination, (uint)request, RequestFlags(needReply), state);
    }

    /// <summary>SET_VRING_ADDR.</summary>
    public static int EncodeSetVringAddr(Span<byte> destination, in VhostVringAddr address, bool needReply = false) =>
        Write(destination, (uint)VhostUserRequest.SetVringAddr, RequestFlags(needReply), address);

    /// <summary>SET_VRING_KICK / SET_VRING_CALL / SET_VRING_ERR for vring <paramref name="vringIndex"/> (0-255); without an fd the invalid-FD bit is set.</summary>
    public static int EncodeVringFile(Span<byte> destination, VhostUserRequest request, uint vringIndex, bool hasFd, bool needReply = false)
    {
        RequireRequest(request, VhostUserPayloadKind.VringFile);
        return Write(destination, (uint)request, RequestFlags(needReply), VhostVringFile.Encode(vringIndex, hasFd));
    }

    /// <summary>SET_MEM_TABLE with 1 to 8 regions: 8 + 32 * n payload bytes (the caller sends one fd per region, in order).</summary>
    public static int EncodeSetMemTable(Span<byte> destination, ReadOnlySpan<VhostMemoryRegion> regions, bool needReply = false)
    {
        if (regions.Length is 0 or > VhostUserMemory.MaxRegions)
        {
            throw new ArgumentOutOfRangeException(nameof(regions), regions.Length, $"SET_MEM_TABLE carries 1 to {VhostUserMemory.MaxRegions} regions.");
        }

        int size = VhostUserMemory.PayloadSizeFor(regions.Length);
        RequireRoom(destination, VhostUserHeader.Size + size);
        WriteHeader(destination, (uint)VhostUserRequest.SetMemTable, RequestFlags(needReply), (uint)size);
        Span<byte> payload = destination.Slice(VhostUserHeader.Size, size);
        MemoryMarshal.Write(payload, (uint)regions.Length);
        MemoryMarshal.Write(payload[sizeof(uint)..], 0u);
        MemoryMarshal.AsBytes(regions).CopyTo(payload[VhostUserMemory.HeaderSize..]);
        return VhostUserHeader.Size + size;
    }

    /// <summary>SET_LOG_BASE (the caller sends the log fd).</summary>
    public static int EncodeSetLogBase(Span<byte> destination, in VhostUserLog log, bool needReply = false) =>
        Write(destination, (uint)VhostUserRequest.SetLogBase, RequestFlags(needReply), log);

    /// <summary>ADD_MEM_REG (the caller sends the region's fd) or REM_MEM_REG.</summary>
    public static int EncodeMemoryRegionRequest(Span<byte> destination, VhostUserRequest request, in VhostMemoryRegion region, bool needReply = false)
    {
        RequireRequest(request, VhostUserPayloadKind.SingleMemoryRegion);
        return Write(destination, (uint)request, RequestFlags(needReply), new VhostUserSingleMemoryRegion(region));
    }

    /// <summary>A reply without payload: SET_LOG_BASE's (DPDK and QEMU agree on none).</summary>
    public static int EncodeReply(Span<byte> destination, VhostUserRequest request)
    {
        if (!VhostUserRequestInfo.HasReply(request) || VhostUserRequestInfo.ReplyPayload(request) != VhostUserPayloadKind.None)
        {
            throw new ArgumentException($"{VhostUserRequestInfo.SpecName(request)} has no empty reply.", nameof(request));
        }

        return WriteHeader(destination, (uint)request, ReplyFlags, 0);
    }

    /// <summary>
    /// A u64 reply: the answer of GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS,
    /// GET_STATUS, or the REPLY_ACK acknowledgement (0 success, non-zero failure) of any request without its own reply.
    /// </summary>
    public static int EncodeReply(Span<byte> destination, VhostUserRequest request, ulong value)
    {
        if (!VhostUserRequestInfo.IsKnown(request) || VhostUserRequestInfo.ReplyPayload(request) is not (VhostUserPayloadKind.U64 or VhostUserPayloadKind.None))
        {
            throw new ArgumentException($"{VhostUserRequestInfo.SpecName(request)} is not answered with a u64.", nameof(request));
        }

        return Write(destination, (uint)request, ReplyFlags, value);
    }

    /// <summary>The GET_VRING_BASE reply.</summary>
    public static int EncodeReply(Span<byte> destination, VhostUserRequest request, in VhostVringState state)
    {
        if (VhostUserRequestInfo.ReplyPayload(request) != VhostUserPayloadKind.VringState)
        {
            throw new ArgumentException($"{VhostUserRequestInfo.SpecName(request)} is not answered with a vring state.", nameof(request));
        }

        return Write(destination, (uint)request, ReplyFlags, state);
    }

    private static uint ReplyFlags => VhostUserHeader.Version | VhostUserHeader.ReplyFlag;

    private static uint RequestFlags(bool needReply) => VhostUserHeader.Version | (needReply ? VhostUserHeader.NeedReplyFlag : 0);

    private static void RequireRequest(VhostUserRequest request, VhostUserPayloadKind kind, VhostUserPayloadKind alternative = (VhostUserPayloadKind)(-1))
    {
        VhostUserPayloadKind actual = VhostUserRequestInfo.RequestPayload(request);
        if (!VhostUserRequestInfo.IsSupported(request) || (actual != kind && actual != alternative))
        {
            throw new ArgumentException($"{VhostUserRequestInfo.SpecName(request)} does not carry a {kind} payload.", nameof(request));
        }
    }

    private static void RequireRoom(Span<byte> destination, int length)
    {
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination has {destination.Length} bytes; the message needs {length}.", nameof(destination));
        }
    }

    private static int WriteHeader(Span<byte> destination, uint request, uint flags, uint size)
    {
        RequireRoom(destination, VhostUserHeader.Size);
        var header = new VhostUserHeader(request, flags, size);
        MemoryMarshal.Write(destination, in header);
        return VhostUserHeader.Size;
    }

    private static int Write<T>(Span<byte> destination, uint request, uint flags, in T payload)
        where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        RequireRoom(destination, VhostUserHeader.Size + size);
        WriteHeader(destination, request, flags, (uint)size);
        MemoryMarshal.Write(destination[VhostUserHeader.Size..], in payload);
        return VhostUserHeader.Size + size;
    }
}
