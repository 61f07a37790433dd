using Hyperlane.Linux;

namespace Hyperlane.Core.Ports;

/// <summary>A control operation on a port failed. The message names the port, the operation and the cause.</summary>
public class EthDevException : Exception
{
    public EthDevException(ushort portId, string portName, string operation, string reason, Errno error = Errno.None, Exception? inner = null)
        : base($"port {portId} ({portName}): {operation}: {reason}{(error == Errno.None ? string.Empty : $" ({error})")}", inner)
    {
        PortId = portId;
        PortName = portName;
        Operation = operation;
        Error = error;
    }

    public EthDevException()
    {
        PortName = Operation = string.Empty;
    }

    public EthDevException(string message)
        : base(message)
    {
        PortName = Operation = string.Empty;
    }

    public EthDevException(string message, Exception innerException)
        : base(message, innerException)
    {
        PortName = Operation = string.Empty;
    }

    public ushort PortId { get; }

    public string PortName { get; }

    public string Operation { get; }

    /// <summary>The errno that describes the failure, if any (EINVAL, ENOTSUP, EBUSY...).</summary>
    public Errno Error { get; }
}
