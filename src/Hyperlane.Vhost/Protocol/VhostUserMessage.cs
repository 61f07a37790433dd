namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// A vhost-user message that <see cref="VhostUserMessageDecoder"/> validated: the header, the number of fds that
/// came with it, and the payload as the typed value its <see cref="PayloadKind"/> names. Reading a payload
/// property of another kind is a programming error and throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class VhostUserMessage
{
    private readonly ulong _u64;
    private readonly VhostVringState _vringState;
    private readonly VhostVringAddr _vringAddr;
    private readonly VhostUserMemory _memory;
    private readonly VhostMemoryRegion _memoryRegion;
    private readonly VhostUserLog _log;

    private VhostUserMessage(
        VhostUserHeader header, VhostUserPayloadKind kind, int fdCount, ulong u64 = 0, VhostVringState vringState = default,
        VhostVringAddr vringAddr = default, VhostUserMemory memory = default, VhostMemoryRegion memoryRegion = default, VhostUserLog log = default)
    {
        Header = header;
        PayloadKind = kind;
        FdCount = fdCount;
        _u64 = u64;
        _vringState = vringState;
        _vringAddr = vringAddr;
        _memory = memory;
        _memoryRegion = memoryRegion;
        _log = log;
    }

    /// <summary>The header as received.</summary>
    public VhostUserHeader Header { get; }

    /// <summary>The request (header.request).</summary>
    public VhostUserRequest Request => (VhostUserRequest)Header.Request;

    /// <summary>The NEED_REPLY flag: the sender waits for an acknowledgement (REPLY_ACK).</summary>
    public bool NeedReply => Header.NeedReply;

    /// <summary>The REPLY flag (set on replies only).</summary>
    public bool IsReply => Header.IsReply;

    /// <summary>The payload shape.</summary>
    public VhostUserPayloadKind PayloadKind { get; }

    /// <summary>How many fds came with the message (already checked against the request).</summary>
    public int FdCount { get; }

    /// <summary>The u64 payload (<see cref="VhostUserPayloadKind.U64"/> or <see cref="VhostUserPayloadKind.VringFile"/>).</summary>
    public ulong U64
    {
        get
        {
            if (PayloadKind is not (VhostUserPayloadKind.U64 or VhostUserPayloadKind.VringFile))
            {
                throw WrongKind(VhostUserPayloadKind.U64);
            }

            return _u64;
        }
    }

    /// <summary>The vring state payload.</summary>
    public VhostVringState VringState => PayloadKind == VhostUserPayloadKind.VringState ? _vringState : throw WrongKind(VhostUserPayloadKind.VringState);

    /// <summary>The vring address payload.</summary>
    public VhostVringAddr VringAddr => PayloadKind == VhostUserPayloadKind.VringAddr ? _vringAddr : throw WrongKind(VhostUserPayloadKind.VringAddr);

    /// <summary>The regions of a SET_MEM_TABLE payload (1 to 8, validated: non-empty, no overflow, no overlap).</summary>
    public ReadOnlySpan<VhostMemoryRegion> MemoryRegions =>
        PayloadKind == VhostUserPayloadKind.Memory
            ? ((ReadOnlySpan<VhostMemoryRegion>)_memory.Regions)[..(int)_memory.NRegions]
            : throw WrongKind(VhostUserPayloadKind.Memory);

    /// <summary>The region of an ADD_MEM_REG / REM_MEM_REG payload.</summary>
    public VhostMemoryRegion MemoryRegion =>
        PayloadKind == VhostUserPayloadKind.SingleMemoryRegion ? _memoryRegion : throw WrongKind(VhostUserPayloadKind.SingleMemoryRegion);

    /// <summary>The log description of SET_LOG_BASE.</summary>
    public VhostUserLog Log => PayloadKind == VhostUserPayloadKind.Log ? _log : throw WrongKind(VhostUserPayloadKind.Log);

    /// <summary>
    /// The vring index the message is about: bits 0-7 of a vring-file u64, or the index of a vring state / address
    /// (already checked to be below <see cref="VhostUserMessageDecoder.MaxVrings"/>).
    /// </summary>
    public uint VringIndex => PayloadKind switch
    {
        VhostUserPayloadKind.VringFile => (uint)(_u64 & VhostVringFile.IndexMask),
        VhostUserPayloadKind.VringState => _vringState.Index,
        VhostUserPayloadKind.VringAddr => _vringAddr.Index,
        _ => throw WrongKind(VhostUserPayloadKind.VringState),
    };

    /// <summary>Whether a SET_VRING_KICK/CALL/ERR message carries its fd (invalid-FD flag clear).</summary>
    public bool VringFileHasFd =>
        PayloadKind == VhostUserPayloadKind.VringFile ? (_u64 & VhostVringFile.NoFdFlag) == 0 : throw WrongKind(VhostUserPayloadKind.VringFile);

    internal static VhostUserMessage Empty(VhostUserHeader header, int fdCount) => new(header, VhostUserPayloadKind.None, fdCount);

    internal static VhostUserMessage WithU64(VhostUserHeader header, VhostUserPayloadKind kind, int fdCount, ulong value) =>
        new(header, kind, fdCount, u64: value);

    internal static VhostUserMessage WithVringState(VhostUserHeader header, int fdCount, VhostVringState value) =>
        new(header, VhostUserPayloadKind.VringState, fdCount, vringState: value);

    internal static VhostUserMessage WithVringAddr(VhostUserHeader header, int fdCount, VhostVringAddr value) =>
        new(header, VhostUserPayloadKind.VringAddr, fdCount, vringAddr: value);

    internal static VhostUserMessage WithMemory(VhostUserHeader header, int fdCount, in VhostUserMemory value) =>
        new(header, VhostUserPayloadKind.Memory, fdCount, memory: value);

    internal static VhostUserMessage WithMemoryRegion(VhostUserHeader header, int fdCount, VhostMemoryRegion value) =>
        new(header, VhostUserPayloadKind.SingleMemoryRegion, fdCount, memoryRegion: value);

    internal static VhostUserMessage WithLog(VhostUserHeader header, int fdCount, VhostUserLog value) =>
        new(header, VhostUserPayloadKind.Log, fdCount, log: value);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{VhostUserRequestInfo.SpecName(Request)}{(IsReply ? " reply" : string.Empty)} ({PayloadKind}, {Header.PayloadSize} bytes, {FdCount} fds)";

    private InvalidOperationException WrongKind(VhostUserPayloadKind wanted) =>
        new($"{VhostUserRequestInfo.SpecName(Request)} carries a {PayloadKind} payload, not {wanted}.");
}
