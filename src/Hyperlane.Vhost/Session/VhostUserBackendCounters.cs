namespace Hyperlane.Vhost.Session;

/// <summary>
/// What a <see cref="VhostUserBackend"/> has seen of its frontends, for xstats. Written by the session thread,
/// readable from any thread (64-bit atomic reads).
/// </summary>
public sealed class VhostUserBackendCounters
{
    private long _messagesHandled;
    private long _malformedMessages;
    private long _protocolViolations;
    private long _unsupportedRequests;
    private long _connectionsAccepted;
    private long _connectionsRefused;
    private long _connectionsDroppedForErrors;
    private long _disconnects;
    private long _connectAttemptsFailed;
    private long _retireTimeouts;
    private long _brokenRings;

    /// <summary>Requests handled successfully (replied to or acknowledged as needed).</summary>
    public long MessagesHandled => Interlocked.Read(ref _messagesHandled);

    /// <summary>
    /// Messages rejected for their shape: a header, payload or fd count the decoder refused, more fds than any request
    /// carries, fds with a payload, a message cut short by the peer closing or going silent.
    /// </summary>
    public long MalformedMessages => Interlocked.Read(ref _malformedMessages);

    /// <summary>
    /// Well-formed messages the session refused: features not offered, a vring index out of range, a ring size a split
    /// ring cannot have, memory it cannot map, a ring it cannot build, a request whose protocol feature was not negotiated.
    /// </summary>
    public long ProtocolViolations => Interlocked.Read(ref _protocolViolations);

    /// <summary>Requests of the spec that this backend does not implement (logged; a failure ack when NEED_REPLY was set).</summary>
    public long UnsupportedRequests => Interlocked.Read(ref _unsupportedRequests);

    /// <summary>Frontend connections taken (accepted in server mode, established in client mode).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Connections closed at once because a frontend was already connected (server mode).</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _connectionsRefused);

    /// <summary>Connections the backend dropped because of a malformed message, a protocol violation, a broken ring or an I/O error.</summary>
    public long ConnectionsDroppedForErrors => Interlocked.Read(ref _connectionsDroppedForErrors);

    /// <summary>Connections the frontend closed.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    /// <summary>Client mode: connection attempts that found no listener.</summary>
    public long ConnectAttemptsFailed => Interlocked.Read(ref _connectAttemptsFailed);

    /// <summary>Times the data path did not leave a retired queue within the retire timeout (its memory was then kept mapped).</summary>
    public long RetireTimeouts => Interlocked.Read(ref _retireTimeouts);

    /// <summary>Rings found broken beyond repair by their queue (the connection was dropped).</summary>
    public long BrokenRings => Interlocked.Read(ref _brokenRings);

    internal void MessageHandled() => Interlocked.Increment(ref _messagesHandled);

    internal void Malformed() => Interlocked.Increment(ref _malformedMessages);

    internal void Violation() => Interlocked.Increment(ref _protocolViolations);

    internal void Unsupported() => Interlocked.Increment(ref _unsupportedRequests);

    internal void Accepted() => Interlocked.Increment(ref _connectionsAccepted);

    internal void Refused() => Interlocked.Increment(ref _connectionsRefused);

    internal void DroppedForError() => Interlocked.Increment(ref _connectionsDroppedForErrors);

    internal void Disconnected() => Interlocked.Increment(ref _disconnects);

    internal void ConnectFailed() => Interlocked.Increment(ref _connectAttemptsFailed);

    internal void RetireTimedOut() => Interlocked.Increment(ref _retireTimeouts);

    internal void RingBroken() => Interlocked.Increment(ref _brokenRings);

    /// <inheritdoc/>
    public override string ToString() =>
        $"handled {MessagesHandled}, malformed {MalformedMessages}, violations {ProtocolViolations}, unsupported {UnsupportedRequests}, " +
        $"accepted {ConnectionsAccepted}, refused {ConnectionsRefused}, dropped {ConnectionsDroppedForErrors}, disconnects {Disconnects}";
}
