using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// A vhost-user exchange with the backend failed: the backend did not offer what is needed, refused a request
/// (REPLY_ACK status), answered something invalid, did not answer in time, or the connection broke. The message names
/// the request and what the backend answered.
/// </summary>
public class VhostUserFrontendException : Exception
{
    public VhostUserFrontendException()
        : base("a vhost-user exchange with the backend failed")
    {
    }

    public VhostUserFrontendException(string message)
        : base(message)
    {
    }

    public VhostUserFrontendException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public VhostUserFrontendException(VhostUserRequest request, string message, Exception? innerException = null)
        : base($"{VhostUserRequestInfo.SpecName(request)}: {message}", innerException)
    {
        Request = request;
    }

    /// <summary>The request that failed (<see cref="VhostUserRequest.None"/> when the failure is not tied to one).</summary>
    public VhostUserRequest Request { get; }
}
