namespace Hyperlane.Core.Ports;

/// <summary>
/// A port backed by a kernel network interface (tap, af_packet). Failsafe watches the interface through
/// netlink, so the port is switched away from the moment the interface is deleted.
/// </summary>
public interface IKernelInterfacePort
{
    /// <summary>The kernel interface's name when the port was probed.</summary>
    string InterfaceName { get; }

    /// <summary>The kernel interface's index (in the network namespace the port was probed in).</summary>
    int InterfaceIndex { get; }
}
