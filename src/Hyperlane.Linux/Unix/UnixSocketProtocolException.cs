namespace Hyperlane.Linux.Unix;

/// <summary>
/// A peer on a Unix stream socket broke the rules of the exchange (e.g. sent more file descriptors than
/// the receiver allows). The descriptors involved are already closed; the caller drops the connection.
/// </summary>
public class UnixSocketProtocolException : LinuxException
{
    public UnixSocketProtocolException()
        : base("the peer on a unix socket broke the protocol")
    {
    }

    public UnixSocketProtocolException(string message)
        : base(message)
    {
    }

    public UnixSocketProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
