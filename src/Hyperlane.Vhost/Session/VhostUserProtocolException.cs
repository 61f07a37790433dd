namespace Hyperlane.Vhost.Session;

/// <summary>
/// A well-formed vhost-user message the session refuses (features not offered, a vring index out of range, memory
/// it cannot map...). The message text says which request and what was wrong; the connection is dropped.
/// </summary>
internal sealed class VhostUserProtocolException : Exception
{
    public VhostUserProtocolException()
        : base("vhost-user protocol violation")
    {
    }

    public VhostUserProtocolException(string message)
        : base(message)
    {
    }

    public VhostUserProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
