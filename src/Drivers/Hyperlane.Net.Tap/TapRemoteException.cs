using Hyperlane.Linux;

namespace Hyperlane.Net.Tap;

/// <summary>Setting up or changing the tc rules / flags of a remote netdev failed; the message names the rule and the kernel's answer.</summary>
public sealed class TapRemoteException : InvalidOperationException
{
    public TapRemoteException(string message, Errno error, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
    }

    public TapRemoteException()
    {
    }

    public TapRemoteException(string message)
        : base(message)
    {
    }

    public TapRemoteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno the kernel answered with.</summary>
    public Errno Error { get; }
}
