namespace Hyperlane.Core.Ports;

/// <summary>An event on a port.</summary>
public sealed class EthDevEventArgs(ushort portId, string portName, EthDevEventType type, string? detail = null) : EventArgs
{
    public ushort PortId { get; } = portId;

    public string PortName { get; } = portName;

    public EthDevEventType Type { get; } = type;

    /// <summary>Why, in words (e.g. "kernel interface deleted").</summary>
    public string? Detail { get; } = detail;

    public override string ToString() => $"port {PortId} ({PortName}): {Type}{(Detail is null ? string.Empty : ": " + Detail)}";
}
