namespace Hyperlane.Core.Ports;

/// <summary>Where a port is in its life: probe → configure → start ⇄ stop → close.</summary>
public enum EthDevState
{
    /// <summary>Probed; needs <see cref="EthDev.Configure"/>.</summary>
    Unconfigured,

    /// <summary>Configured (or stopped): queues can be set up, then the port started.</summary>
    Configured,

    /// <summary>Started: bursts move packets.</summary>
    Started,

    /// <summary>Closed: nothing more can be done with it.</summary>
    Closed,
}
