using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// Validates and decodes vhost-user messages received from the other side of the socket. Pure: it sees the
/// 12 header bytes, the payload bytes and the number of fds that came in the ancillary data, and either returns a
/// typed <see cref="VhostUserMessage"/> or says exactly what is wrong. It never throws for bad input.
/// </summary>
/// <remarks>
/// <para>
/// The vhost-user connection is an external interface (DPDK vhost_user.c's security note): every field the
/// frontend sends is checked here before anything uses it. The rules, in the order they are checked:
/// </para>
/// <list type="number">
/// <item>Header (vhost-user.rst "Header"): 12 bytes; version bits (0-1) = 0x1; no REPLY flag on a request;
/// no flag outside version | REPLY | NEED_REPLY; a request number the spec defines; one Hyperlane implements
/// (<see cref="VhostUserRequestInfo.IsSupported"/>); size at most <see cref="MaxPayloadSize"/>
/// (hardening.md VU-01).</item>
/// <item>Payload span length = header size (VU-01).</item>
/// <item>Payload size exactly what the request's payload needs (vhost-user.rst "Payload"): 0, 8 (u64, vring
/// state), 40 (vring address, single region), 16 (log), 8 + 32 * nregions (memory table, nregions 1 to 8).</item>
/// <item>fds (vhost-user.rst "Communication" and each message): SET_MEM_TABLE exactly nregions;
/// SET_VRING_KICK/CALL/ERR one unless the invalid-FD bit (0x100) is set, then none; SET_LOG_BASE, SET_LOG_FD,
/// SET_BACKEND_REQ_FD, ADD_MEM_REG one; REM_MEM_REG none or one; every other request none; never more than
/// <see cref="MaxFds"/> (VU-02, CVE-2019-14818, CVE-2022-0669). On any error the caller closes all fds.</item>
/// <item>Values: vring indexes below <see cref="MaxVrings"/> as full u32s (VU-03, CVE-2020-10723); no reserved
/// bit in the vring-file u64 or in SET_VRING_ADDR flags; SET_VRING_NUM 1 to 32768 (VU-06); GET_VRING_BASE and
/// VRING_KICK num 0; SET_VRING_ENABLE and SET_VRING_ENDIAN num 0 or 1; memory regions non-empty, with
/// guest address + size, user address + size and mmap offset + size inside u64, not overlapping each other in
/// guest-physical or user space (VU-07); SET_LOG_BASE size non-zero and offset + size inside u64 (VU-04,
/// CVE-2020-10722); NET_SET_MTU 68 to 65535 (virtio 1.2 §5.1.4.1); SET_STATUS 8 bits (§2.1);
/// SET_PROTOCOL_FEATURES with INBAND_NOTIFICATIONS also has BACKEND_REQ and REPLY_ACK ("In-band
/// notifications").</item>
/// </list>
/// <para>
/// Whether a value fits the session (a vring index below the queue count, a ring size that is a power of 2 for a
/// split ring, features that are a subset of the offer, a region that fits its fd's size) is the session's check.
/// </para>
/// </remarks>
public static class VhostUserMessageDecoder
{
    /// <summary>The largest payload accepted: a full memory table, 8 + 8 * 32 = 264 bytes.</summary>
    public const int MaxPayloadSize = VhostUserMemory.Size;

    /// <summary>The most fds a message can carry (one per memory region).</summary>
    public const int MaxFds = VhostUserMemory.MaxRegions;

    /// <summary>Vring indexes are below this: the 8-bit index of SET_VRING_KICK/CALL/ERR (DPDK's VHOST_MAX_VRING).</summary>
    public const uint MaxVrings = 256;

    /// <summary>The largest ring size (virtio 1.2 §2.7 and §2.8: 32768 for split and packed rings).</summary>
    public const uint MaxQueueSize = 32768;

    /// <summary>The smallest MTU NET_SET_MTU may set (virtio 1.2 §5.1.4.1: mtu between 68 and 65535).</summary>
    public const ulong MinMtu = 68;

    /// <summary>The largest MTU NET_SET_MTU may set.</summary>
    public const ulong MaxMtu = 65535;

    /// <summary>
    /// Validates a request header alone (rule 1), so the caller knows how many payload bytes to read.
    /// </summary>
    /// <returns><see langword="true"/> with the header in <paramref name="value"/>; otherwise <see langword="false"/> with the reason.</returns>
    public static bool TryDecodeHeader(
        ReadOnlySpan<byte> header, out VhostUserHeader value, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        value = default;
        if (header.Length != VhostUserHeader.Size)
        {
            return Fail(VhostUserDecodeError.HeaderLength, $"vhost-user header is {header.Length} bytes, not {VhostUserHeader.Size}", out error, out message);
        }

        value = MemoryMarshal.Read<VhostUserHeader>(header);
        var request = (VhostUserRequest)value.Request;
        string name = VhostUserRequestInfo.SpecName(request);
        if (value.VersionBits != VhostUserHeader.Version)
        {
            return Fail(VhostUserDecodeError.BadVersion, $"{name}: flags 0x{value.Flags:X} carry version {value.VersionBits}, not {VhostUserHeader.Version}", out error, out message);
        }

        if (value.IsReply)
        {
            return Fail(VhostUserDecodeError.ReplyFlagOnRequest, $"{name}: the REPLY flag (0x4) is set on a request", out error, out message);
        }

        if ((value.Flags & ~VhostUserHeader.KnownFlags) != 0)
        {
            return Fail(VhostUserDecodeError.ReservedFlags, $"{name}: reserved flag bits 0x{value.Flags & ~VhostUserHeader.KnownFlags:X} are set", out error, out message);
        }

        if (!VhostUserRequestInfo.IsKnown(request))
        {
            return Fail(VhostUserDecodeError.UnknownRequest, $"unknown vhost-user request {value.Request}", out error, out message);
        }

        if (!VhostUserRequestInfo.IsSupported(request))
        {
            return Fail(VhostUserDecodeError.UnsupportedRequest, $"{name} ({value.Request}) is not supported: its feature is never offered", out error, out message);
        }

        if (value.PayloadSize > MaxPayloadSize)
        {
            return Fail(VhostUserDecodeError.PayloadTooLarge, $"{name}: payload size {value.PayloadSize} is larger than the largest payload ({MaxPayloadSize})", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    /// <summary>
    /// Validates and decodes a request from the frontend: <paramref name="header"/> (12 bytes),
    /// <paramref name="payload"/> (header.size bytes) and the number of fds that came with it.
    /// </summary>
    /// <returns><see langword="true"/> with the message; otherwise <see langword="false"/> with the reason (close all fds).</returns>
    public static bool TryDecode(
        ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, int fdCount,
        [NotNullWhen(true)] out VhostUserMessage? message, out VhostUserDecodeError error, [NotNullWhen(false)] out string? errorMessage)
    {
        message = null;
        if (!TryDecodeHeader(header, out var h, out error, out errorMessage))
        {
            return false;
        }

        var request = (VhostUserRequest)h.Request;
        string name = VhostUserRequestInfo.SpecName(request);
        if (!CheckPayloadAndFds(name, h, payload, fdCount, out error, out errorMessage))
        {
            return false;
        }

        VhostUserPayloadKind kind = VhostUserRequestInfo.RequestPayload(request);
        if (!CheckPayloadSize(name, kind, payload, out int regionCount, out error, out errorMessage))
        {
            return false;
        }

        if (!CheckFdPolicy(name, VhostUserRequestInfo.FdPolicy(request), payload, regionCount, fdCount, out error, out errorMessage))
        {
            return false;
        }

        return DecodeRequestPayload(name, request, h, kind, payload, fdCount, out message, out error, out errorMessage);
    }

    /// <summary>
    /// Validates and decodes the backend's reply to <paramref name="expected"/> (the frontend side, virtio_user):
    /// version 0x1, REPLY set, NEED_REPLY clear, no reserved flag, the same request, no fd, and the reply payload
    /// <see cref="VhostUserRequestInfo.ReplyPayload"/> names (a u64 acknowledgement for requests without their own
    /// reply; SET_LOG_BASE's reply may be empty or a u64).
    /// </summary>
    public static bool TryDecodeReply(
        ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, int fdCount, VhostUserRequest expected,
        [NotNullWhen(true)] out VhostUserMessage? reply, out VhostUserDecodeError error, [NotNullWhen(false)] out string? errorMessage)
    {
        reply = null;
        string name = VhostUserRequestInfo.SpecName(expected);
        if (header.Length != VhostUserHeader.Size)
        {
            return Fail(VhostUserDecodeError.HeaderLength, $"{name} reply: header is {header.Length} bytes, not {VhostUserHeader.Size}", out error, out errorMessage);
        }

        var h = MemoryMarshal.Read<VhostUserHeader>(header);
        if (h.VersionBits != VhostUserHeader.Version)
        {
            return Fail(VhostUserDecodeError.BadVersion, $"{name} reply: flags 0x{h.Flags:X} carry version {h.VersionBits}, not {VhostUserHeader.Version}", out error, out errorMessage);
        }

        if (!h.IsReply)
        {
            return Fail(VhostUserDecodeError.NotAReply, $"{name} reply: the REPLY flag (0x4) is not set (flags 0x{h.Flags:X})", out error, out errorMessage);
        }

        if ((h.Flags & ~(VhostUserHeader.VersionMask | VhostUserHeader.ReplyFlag)) != 0)
        {
            return Fail(VhostUserDecodeError.ReservedFlags, $"{name} reply: flag bits 0x{h.Flags & ~(VhostUserHeader.VersionMask | VhostUserHeader.ReplyFlag):X} are set (NEED_REPLY or reserved)", out error, out errorMessage);
        }

        if (h.Request != (uint)expected)
        {
            return Fail(VhostUserDecodeError.RequestMismatch, $"{name} reply: the reply is for {VhostUserRequestInfo.SpecName((VhostUserRequest)h.Request)}", out error, out errorMessage);
        }

        if (h.PayloadSize > MaxPayloadSize)
        {
            return Fail(VhostUserDecodeError.PayloadTooLarge, $"{name} reply: payload size {h.PayloadSize} is larger than the largest payload ({MaxPayloadSize})", out error, out errorMessage);
        }

        if (!CheckPayloadAndFds(name + " reply", h, payload, fdCount, out error, out errorMessage))
        {
            return false;
        }

        if (fdCount != 0)
        {
            return Fail(VhostUserDecodeError.FdCount, $"{name} reply: {fdCount} fds received, expected none", out error, out errorMessage);
        }

        bool explicitReply = VhostUserRequestInfo.HasReply(expected);
        VhostUserPayloadKind kind = explicitReply ? VhostUserRequestInfo.ReplyPayload(expected) : VhostUserPayloadKind.U64;
        if (expected == VhostUserRequest.SetLogBase && payload.Length == sizeof(ulong))
        {
            kind = VhostUserPayloadKind.U64; // QEMU-style acknowledgement; DPDK sends none
        }

        if (!CheckPayloadSize(name + " reply", kind, payload, out _, out error, out errorMessage))
        {
            return false;
        }

        reply = kind switch
        {
            VhostUserPayloadKind.U64 => VhostUserMessage.WithU64(h, kind, fdCount, MemoryMarshal.Read<ulong>(payload)),
            VhostUserPayloadKind.VringState => VhostUserMessage.WithVringState(h, fdCount, MemoryMarshal.Read<VhostVringState>(payload)),
            _ => VhostUserMessage.Empty(h, fdCount),
        };
        error = VhostUserDecodeError.None;
        errorMessage = null;
        return true;
    }

    // Rule 2 and the fd bounds: the payload span matches the header, and the fd count is 0..MaxFds.
    private static bool CheckPayloadAndFds(
        string name, VhostUserHeader h, ReadOnlySpan<byte> payload, int fdCount, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        if ((uint)payload.Length != h.PayloadSize)
        {
            return Fail(VhostUserDecodeError.PayloadLength, $"{name}: {payload.Length} payload bytes received, the header says {h.PayloadSize}", out error, out message);
        }

        if (fdCount < 0 || fdCount > MaxFds)
        {
            return Fail(VhostUserDecodeError.FdCount, $"{name}: {fdCount} fds received, at most {MaxFds} are possible", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    // Rule 3: the size the payload kind requires; for a memory table also the region count.
    private static bool CheckPayloadSize(
        string name, VhostUserPayloadKind kind, ReadOnlySpan<byte> payload, out int regionCount, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        regionCount = 0;
        int required;
        switch (kind)
        {
            case VhostUserPayloadKind.None:
                required = 0;
                break;
            case VhostUserPayloadKind.U64:
            case VhostUserPayloadKind.VringFile:
                required = sizeof(ulong);
                break;
            case VhostUserPayloadKind.VringState:
                required = VhostVringState.Size;
                break;
            case VhostUserPayloadKind.VringAddr:
                required = VhostVringAddr.Size;
                break;
            case VhostUserPayloadKind.SingleMemoryRegion:
                required = VhostUserSingleMemoryRegion.Size;
                break;
            case VhostUserPayloadKind.Log:
                required = VhostUserLog.Size;
                break;
            case VhostUserPayloadKind.Memory:
                if (payload.Length < VhostUserMemory.HeaderSize)
                {
                    return Fail(VhostUserDecodeError.PayloadSize, $"{name}: payload size {payload.Length} is too small for a memory table (at least {VhostUserMemory.HeaderSize})", out error, out message);
                }

                uint n = MemoryMarshal.Read<uint>(payload);
                if (n == 0 || n > VhostUserMemory.MaxRegions)
                {
                    return Fail(VhostUserDecodeError.RegionCount, $"{name}: nregions is {n}, not 1 to {VhostUserMemory.MaxRegions}", out error, out message);
                }

                regionCount = (int)n;
                required = VhostUserMemory.PayloadSizeFor(regionCount);
                break;
            default:
                required = -1;
                break;
        }

        if (payload.Length != required)
        {
            return Fail(VhostUserDecodeError.PayloadSize, $"{name}: payload size {payload.Length}, the {kind} payload needs {required}", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    // Rule 4: the fds the request carries.
    private static bool CheckFdPolicy(
        string name, VhostUserFdPolicy policy, ReadOnlySpan<byte> payload, int regionCount, int fdCount, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        int expected;
        string why;
        switch (policy)
        {
            case VhostUserFdPolicy.One:
                expected = 1;
                why = "exactly one";
                break;
            case VhostUserFdPolicy.OneUnlessNoFd:
                bool noFd = (MemoryMarshal.Read<ulong>(payload) & VhostVringFile.NoFdFlag) != 0;
                expected = noFd ? 0 : 1;
                why = noFd ? "none (the invalid-FD bit 0x100 is set)" : "exactly one (the invalid-FD bit 0x100 is clear)";
                break;
            case VhostUserFdPolicy.OnePerRegion:
                expected = regionCount;
                why = $"one per region ({regionCount})";
                break;
            case VhostUserFdPolicy.NoneOrOne:
                if (fdCount <= 1)
                {
                    error = VhostUserDecodeError.None;
                    message = null;
                    return true;
                }

                return Fail(VhostUserDecodeError.FdCount, $"{name}: {fdCount} fds received, expected none (one is tolerated)", out error, out message);
            default:
                expected = 0;
                why = "none";
                break;
        }

        if (fdCount != expected)
        {
            return Fail(VhostUserDecodeError.FdCount, $"{name}: {fdCount} fds received, expected {why}", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    // Rule 5: the values, then the typed message.
    private static bool DecodeRequestPayload(
        string name, VhostUserRequest request, VhostUserHeader h, VhostUserPayloadKind kind, ReadOnlySpan<byte> payload, int fdCount,
        [NotNullWhen(true)] out VhostUserMessage? message, out VhostUserDecodeError error, [NotNullWhen(false)] out string? errorMessage)
    {
        message = null;
        switch (kind)
        {
            case VhostUserPayloadKind.None:
                message = VhostUserMessage.Empty(h, fdCount);
                break;

            case VhostUserPayloadKind.U64:
            {
                ulong value = MemoryMarshal.Read<ulong>(payload);
                if (!CheckU64(name, request, value, out error, out errorMessage))
                {
                    return false;
                }

                message = VhostUserMessage.WithU64(h, kind, fdCount, value);
                break;
            }

            case VhostUserPayloadKind.VringFile:
            {
                ulong value = MemoryMarshal.Read<ulong>(payload);
                if ((value & ~VhostVringFile.KnownBits) != 0)
                {
                    return Fail(VhostUserDecodeError.ReservedBits, $"{name}: payload 0x{value:X} sets bits beyond the vring index (0-7) and the invalid-FD bit (8)", out error, out errorMessage);
                }

                message = VhostUserMessage.WithU64(h, kind, fdCount, value);
                break;
            }

            case VhostUserPayloadKind.VringState:
            {
                var state = MemoryMarshal.Read<VhostVringState>(payload);
                if (!CheckVringState(name, request, state, out error, out errorMessage))
                {
                    return false;
                }

                message = VhostUserMessage.WithVringState(h, fdCount, state);
                break;
            }

            case VhostUserPayloadKind.VringAddr:
            {
                var addr = MemoryMarshal.Read<VhostVringAddr>(payload);
                if (addr.Index >= MaxVrings)
                {
                    return Fail(VhostUserDecodeError.VringIndex, $"{name}: vring index {addr.Index} is not below {MaxVrings}", out error, out errorMessage);
                }

                if ((addr.Flags & ~VhostVringAddr.FlagLog) != 0)
                {
                    return Fail(VhostUserDecodeError.ReservedBits, $"{name}: vring {addr.Index} flags 0x{addr.Flags:X} set bits other than VHOST_VRING_F_LOG (0x1)", out error, out errorMessage);
                }

                message = VhostUserMessage.WithVringAddr(h, fdCount, addr);
                break;
            }

            case VhostUserPayloadKind.Memory:
            {
                VhostUserMemory memory = default;
                memory.NRegions = MemoryMarshal.Read<uint>(payload);
                memory.Padding = MemoryMarshal.Read<uint>(payload[sizeof(uint)..]);
                int n = (int)memory.NRegions;
                for (int i = 0; i < n; i++)
                {
                    memory.Regions[i] = MemoryMarshal.Read<VhostMemoryRegion>(payload[VhostUserMemory.PayloadSizeFor(i)..]);
                }

                if (!CheckRegions(name, memory.Regions[..n], out error, out errorMessage))
                {
                    return false;
                }

                message = VhostUserMessage.WithMemory(h, fdCount, memory);
                break;
            }

            case VhostUserPayloadKind.SingleMemoryRegion:
            {
                var single = MemoryMarshal.Read<VhostUserSingleMemoryRegion>(payload);

                // REM_MEM_REG identifies the region by guest address, user address and size; "The mmap offset is ignored."
                if (!CheckRegion(name, 0, single.Region, checkMmapOffset: request != VhostUserRequest.RemMemReg, out error, out errorMessage))
                {
                    return false;
                }

                message = VhostUserMessage.WithMemoryRegion(h, fdCount, single.Region);
                break;
            }

            case VhostUserPayloadKind.Log:
            {
                var log = MemoryMarshal.Read<VhostUserLog>(payload);
                if (log.MmapSize == 0)
                {
                    return Fail(VhostUserDecodeError.InvalidValue, $"{name}: log size is 0", out error, out errorMessage);
                }

                if (!AddressRange.EndFits(log.MmapOffset, log.MmapSize))
                {
                    return Fail(VhostUserDecodeError.RegionOverflow, $"{name}: log offset 0x{log.MmapOffset:X} + size 0x{log.MmapSize:X} overflows u64", out error, out errorMessage);
                }

                message = VhostUserMessage.WithLog(h, fdCount, log);
                break;
            }

            default:
                return Fail(VhostUserDecodeError.UnsupportedRequest, $"{name}: no decoder for a {kind} payload", out error, out errorMessage);
        }

        error = VhostUserDecodeError.None;
        errorMessage = null;
        return true;
    }

    private static bool CheckU64(string name, VhostUserRequest request, ulong value, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        switch (request)
        {
            case VhostUserRequest.NetSetMtu when value is < MinMtu or > MaxMtu:
                return Fail(VhostUserDecodeError.InvalidValue, $"{name}: MTU {value} is not between {MinMtu} and {MaxMtu}", out error, out message);

            case VhostUserRequest.SetStatus when value > byte.MaxValue:
                return Fail(VhostUserDecodeError.InvalidValue, $"{name}: status 0x{value:X} does not fit the 8-bit device status", out error, out message);

            case VhostUserRequest.SetProtocolFeatures:
            {
                var features = (VhostUserProtocolFeatures)value;
                const VhostUserProtocolFeatures Needed = VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.ReplyAck;
                if ((features & VhostUserProtocolFeatures.InbandNotifications) != 0 && (features & Needed) != Needed)
                {
                    return Fail(VhostUserDecodeError.InvalidValue, $"{name}: INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK (0x{value:X})", out error, out message);
                }

                break;
            }
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    private static bool CheckVringState(string name, VhostUserRequest request, VhostVringState state, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        if (state.Index >= MaxVrings)
        {
            return Fail(VhostUserDecodeError.VringIndex, $"{name}: vring index {state.Index} is not below {MaxVrings}", out error, out message);
        }

        switch (request)
        {
            case VhostUserRequest.SetVringNum when state.Num is 0 or > MaxQueueSize:
                return Fail(VhostUserDecodeError.InvalidValue, $"{name}: vring {state.Index} size {state.Num} is not 1 to {MaxQueueSize}", out error, out message);

            // GET_VRING_BASE's num carries nothing and is ignored: DPDK 22.11's virtio_user leaves the ring size there.
            case VhostUserRequest.VringKick when state.Num != 0:
                return Fail(VhostUserDecodeError.ReservedBits, $"{name}: vring {state.Index} num {state.Num} is reserved and must be 0", out error, out message);

            case VhostUserRequest.SetVringEnable when state.Num > 1:
                return Fail(VhostUserDecodeError.InvalidValue, $"{name}: vring {state.Index} enable value {state.Num} is not 0 or 1", out error, out message);

            case VhostUserRequest.SetVringEndian when state.Num > 1:
                return Fail(VhostUserDecodeError.InvalidValue, $"{name}: vring {state.Index} endianness {state.Num} is not 0 (little) or 1 (big)", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    private static bool CheckRegions(string name, ReadOnlySpan<VhostMemoryRegion> regions, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        for (int i = 0; i < regions.Length; i++)
        {
            if (!CheckRegion(name, i, regions[i], checkMmapOffset: true, out error, out message))
            {
                return false;
            }
        }

        for (int i = 0; i < regions.Length; i++)
        {
            for (int j = 0; j < i; j++)
            {
                VhostMemoryRegion a = regions[j], b = regions[i];
                if (AddressRange.Overlap(a.GuestPhysAddr, a.MemorySize, b.GuestPhysAddr, b.MemorySize))
                {
                    return Fail(VhostUserDecodeError.RegionOverlap, $"{name}: region {i} {Range(b.GuestPhysAddr, b.MemorySize)} overlaps region {j} {Range(a.GuestPhysAddr, a.MemorySize)} in guest-physical space", out error, out message);
                }

                if (AddressRange.Overlap(a.UserspaceAddr, a.MemorySize, b.UserspaceAddr, b.MemorySize))
                {
                    return Fail(VhostUserDecodeError.RegionOverlap, $"{name}: region {i} {Range(b.UserspaceAddr, b.MemorySize)} overlaps region {j} {Range(a.UserspaceAddr, a.MemorySize)} in user address space", out error, out message);
                }
            }
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    private static bool CheckRegion(string name, int index, in VhostMemoryRegion r, bool checkMmapOffset, out VhostUserDecodeError error, [NotNullWhen(false)] out string? message)
    {
        if (r.MemorySize == 0)
        {
            return Fail(VhostUserDecodeError.EmptyRegion, $"{name}: region {index} (guest 0x{r.GuestPhysAddr:X}) has size 0", out error, out message);
        }

        if (!AddressRange.EndFits(r.GuestPhysAddr, r.MemorySize))
        {
            return Fail(VhostUserDecodeError.RegionOverflow, $"{name}: region {index} guest address 0x{r.GuestPhysAddr:X} + size 0x{r.MemorySize:X} overflows u64", out error, out message);
        }

        if (!AddressRange.EndFits(r.UserspaceAddr, r.MemorySize))
        {
            return Fail(VhostUserDecodeError.RegionOverflow, $"{name}: region {index} user address 0x{r.UserspaceAddr:X} + size 0x{r.MemorySize:X} overflows u64", out error, out message);
        }

        if (checkMmapOffset && !AddressRange.EndFits(r.MmapOffset, r.MemorySize))
        {
            return Fail(VhostUserDecodeError.RegionOverflow, $"{name}: region {index} mmap offset 0x{r.MmapOffset:X} + size 0x{r.MemorySize:X} overflows u64", out error, out message);
        }

        error = VhostUserDecodeError.None;
        message = null;
        return true;
    }

    private static string Range(ulong start, ulong size) => $"[0x{start:X}, 0x{start + size:X})";

    private static bool Fail(VhostUserDecodeError kind, string text, out VhostUserDecodeError error, out string message)
    {
        error = kind;
        message = text;
        return false;
    }
}
