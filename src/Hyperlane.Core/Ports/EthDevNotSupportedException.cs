using Hyperlane.Linux;

namespace Hyperlane.Core.Ports;

/// <summary>The driver does not implement the operation (ENOTSUP). Callers such as failsafe may skip it.</summary>
public sealed class EthDevNotSupportedException : EthDevException
{
    public EthDevNotSupportedException(ushort portId, string portName, string operation, string driverName)
        : base(portId, portName, operation, $"not supported by {driverName}", Errno.ENOTSUP)
    {
    }

    public EthDevNotSupportedException()
    {
    }

    public EthDevNotSupportedException(string message)
        : base(message)
    {
    }

    public EthDevNotSupportedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
