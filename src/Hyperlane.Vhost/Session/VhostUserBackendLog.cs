using Microsoft.Extensions.Logging;

namespace Hyperlane.Vhost.Session;

/// <summary>The log lines of <see cref="VhostUserBackend"/> and its session ([LoggerMessage], no formatting unless enabled).</summary>
internal static partial class VhostUserBackendLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: listening (server mode), {QueuePairs} queue pair(s), features 0x{Features:X}, protocol features 0x{ProtocolFeatures:X}")]
    public static partial void Listening(ILogger logger, string path, int queuePairs, ulong features, ulong protocolFeatures);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: client mode, connecting every {IntervalMs} ms until a frontend listens, {QueuePairs} queue pair(s), features 0x{Features:X}, protocol features 0x{ProtocolFeatures:X}")]
    public static partial void ClientStarted(ILogger logger, string path, double intervalMs, int queuePairs, ulong features, ulong protocolFeatures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vhost-user {Path}: no frontend to connect to yet ({Error}); retrying")]
    public static partial void ConnectFailed(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: frontend connected ({Mode})")]
    public static partial void Connected(ILogger logger, string path, string mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: refused a second frontend connection: one frontend at a time per vhost device")]
    public static partial void RefusedSecond(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: malformed {Request} message: {Reason}; closed its {FdCount} fd(s) and dropped the connection")]
    public static partial void Malformed(ILogger logger, string path, string request, string reason, int fdCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: protocol violation in {Request}: {Reason}; dropped the connection")]
    public static partial void Violation(ILogger logger, string path, string request, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: {Request} ({Number}) is not supported by this backend (its feature is not offered); {Action}")]
    public static partial void Unsupported(ILogger logger, string path, string request, uint number, string action);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: the frontend closed the connection")]
    public static partial void PeerClosed(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: I/O error on the connection ({What}); dropped it")]
    public static partial void IoError(ILogger logger, Exception exception, string path, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: device ready (the first queue pair is usable)")]
    public static partial void Ready(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: device no longer ready (link down)")]
    public static partial void NotReady(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: vring {Index} started: {Kind} ring of {Size}, base 0x{Base:X}, features 0x{Features:X}, dirty log {Logging}")]
    public static partial void QueueStarted(ILogger logger, string path, int index, string kind, uint size, uint @base, ulong features, bool logging);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vhost-user {Path}: vring {Index} stopped by GET_VRING_BASE at base 0x{Base:X}")]
    public static partial void QueueStopped(ILogger logger, string path, int index, uint @base);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: the data path did not leave vring {Index} within {TimeoutMs} ms; the memory it may still use stays mapped")]
    public static partial void RetireTimeout(ILogger logger, string path, int index, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: features set to 0x{Features:X}")]
    public static partial void FeaturesSet(ILogger logger, string path, ulong features);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: protocol features set to 0x{ProtocolFeatures:X}")]
    public static partial void ProtocolFeaturesSet(ILogger logger, string path, ulong protocolFeatures);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: memory table of {Count} region(s) mapped: {Regions}")]
    public static partial void MemoryTable(ILogger logger, string path, int count, string regions);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vhost-user {Path}: SET_MEM_TABLE with the table already mapped; kept it")]
    public static partial void MemoryTableUnchanged(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: dirty log mapped: 0x{Size:X} bytes at offset 0x{Offset:X} (covers guest-physical addresses below 0x{Covers:X})")]
    public static partial void LogBase(ILogger logger, string path, ulong size, ulong offset, ulong covers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: the dirty log covers guest-physical addresses below 0x{Covers:X} only, the memory table reaches 0x{End:X}; writes above are not logged")]
    public static partial void LogTooSmall(ILogger logger, string path, ulong covers, ulong end);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: VHOST_USER_SET_LOG_FD: closed the fd (this backend does not signal log updates)")]
    public static partial void LogFdClosed(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: the frontend asks for a RARP announcement for {Mac}")]
    public static partial void Rarp(ILogger logger, string path, string mac);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: MTU set to {Mtu}")]
    public static partial void Mtu(ILogger logger, string path, int mtu);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vhost-user {Path}: device status 0x{Status:X}")]
    public static partial void Status(ILogger logger, string path, byte status);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: {Request}: session state reset")]
    public static partial void Reset(ILogger logger, string path, string request);

    [LoggerMessage(Level = LogLevel.Debug, Message = "vhost-user {Path}: vring {Index}: packed base 0x{Base:X} has used index/wrap 0x{Used:X} different from avail 0x{Avail:X}; resuming with used = avail (in-order completion)")]
    public static partial void PackedBaseMismatch(ILogger logger, string path, int index, uint @base, uint used, uint avail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vhost-user {Path}: vring {Index}: {Count} new malformed descriptor chain(s) from the guest; last {Fault} at index {FaultIndex}")]
    public static partial void QueueFaults(ILogger logger, string path, int index, long count, string fault, long faultIndex);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: vring {Index} is broken beyond repair ({Fault} at index {FaultIndex}); dropping the connection")]
    public static partial void RingBroken(ILogger logger, string path, int index, string fault, long faultIndex);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: a handler of the {Event} event threw")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception, string path, string @event);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: unexpected error while serving the connection; dropped it")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Critical, Message = "vhost-user {Path}: the session thread stopped on an unexpected error; the backend no longer serves the socket")]
    public static partial void ThreadFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: the session thread did not stop within {TimeoutMs} ms; its resources are left as they are")]
    public static partial void ThreadDidNotStop(ILogger logger, string path, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "vhost-user {Path}: {Count} retired mapping(s) or eventfd(s) are still possibly in use by a data path that never left its queue; leaking them instead of unmapping")]
    public static partial void QuarantineLeaked(ILogger logger, string path, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "vhost-user {Path}: stopped")]
    public static partial void Stopped(ILogger logger, string path);
}
