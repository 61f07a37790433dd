namespace Hyperlane.Vhost.Session;

/// <summary>What <see cref="VhostUserSession.Handle"/> did with a request.</summary>
internal enum VhostUserHandleOutcome
{
    /// <summary>Handled; no reply of its own (acknowledge with 0 when NEED_REPLY is set).</summary>
    Done = 0,

    /// <summary>Handled; the reply it requires is in the reply buffer (no extra acknowledgement).</summary>
    Replied,

    /// <summary>A request of the spec this backend does not implement (acknowledge with a failure when NEED_REPLY is set).</summary>
    Unsupported,
}
