namespace Hyperlane.Vhost.Frontend;

/// <summary>Why a <see cref="VhostUserFrontend"/> lost its backend, and whether it will reconnect by itself.</summary>
public sealed class VhostUserDisconnectedEventArgs : EventArgs
{
    public VhostUserDisconnectedEventArgs(string reason, bool willReconnect)
    {
        Reason = reason;
        WillReconnect = willReconnect;
    }

    /// <summary>What was seen (the socket closed, hung up, failed).</summary>
    public string Reason { get; }

    /// <summary>True in server mode: the frontend waits for the backend to come back. Client mode needs <see cref="VhostUserFrontend.Reconnect"/>.</summary>
    public bool WillReconnect { get; }
}
