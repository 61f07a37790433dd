using Hyperlane.Linux;

namespace Hyperlane.Core.Ports;

/// <summary>An operation was asked of a port in a state that does not allow it (e.g. queue setup while started).</summary>
public sealed class EthDevStateException : EthDevException
{
    public EthDevStateException(ushort portId, string portName, string operation, EthDevState state, string reason)
        : base(portId, portName, operation, $"not allowed while the port is {state.ToString().ToLowerInvariant()}: {reason}", Errno.EBUSY)
    {
        State = state;
    }

    public EthDevStateException()
    {
    }

    public EthDevStateException(string message)
        : base(message)
    {
    }

    public EthDevStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EthDevState State { get; }
}
