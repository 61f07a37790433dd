using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Failsafe;

/// <summary>Where a sub-device is on its way to the failsafe port's state (DPDK's enum dev_state).</summary>
public enum SubDeviceState
{
    /// <summary>No devargs yet (exec()/fd() have not given any).</summary>
    Undefined = 0,

    /// <summary>Devargs known and valid, not probed.</summary>
    Parsed = 1,

    /// <summary>Port probed (or adopted) and owned by the failsafe port.</summary>
    Probed = 2,

    /// <summary>Configured, queues set up and configuration replayed.</summary>
    Active = 3,

    /// <summary>Started: carries traffic.</summary>
    Started = 4,
}

/// <summary>One sub-device slot of a failsafe port. Fields are changed only under the port's upkeep lock, except
/// <see cref="RemovePending"/>, which event handlers set from any thread.</summary>
internal sealed class SubDevice(int index, SubDeviceSource source)
{
    private int state;

    public int Index { get; } = index;

    public SubDeviceSource Source { get; } = source;

    public SubDeviceState State
    {
        get => (SubDeviceState)Volatile.Read(ref state);
        set => Volatile.Write(ref state, (int)value);
    }

    /// <summary>The devargs being used (valid from <see cref="SubDeviceState.Parsed"/>).</summary>
    public string? Devargs { get; set; }

    /// <summary>The port, from <see cref="SubDeviceState.Probed"/> until it is torn down.</summary>
    public volatile EthDev? Port;

    /// <summary>1 when the sub-device must be torn down (removal event, interface deleted, failed operation).</summary>
#pragma warning disable CA1051 // set with one interlocked instruction from event threads
    public int RemovePending;
#pragma warning restore CA1051

    public string? RemoveReason { get; set; }

    /// <summary>The sub-device's link (or its kernel interface) is down: Tx prefers another one.</summary>
    public volatile bool LinkDown;

    /// <summary>The port's stats when we attached it, so an adopted port's earlier traffic is not counted.</summary>
    public EthStats AttachBaseline { get; set; } = new();

    /// <summary>The last error logged for this slot, so a failure repeated every round is logged once.</summary>
    public string? LastError { get; set; }

    /// <summary>The kernel interface the port is on, if any (watched through netlink).</summary>
    public (string Name, int Index)? KernelInterface { get; set; }

    public EventHandler<EthDevEventArgs>? Handler { get; set; }

    public string Label => Port is { } p ? $"sub-device {Index} ({p.Name})" : $"sub-device {Index} ({Source.Description})";
}
