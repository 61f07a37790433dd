using Hyperlane.Packets;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>One netdev the driver attaches a failsafe port to.</summary>
/// <param name="Name">Its name when selected (a rename later is followed by ifindex).</param>
/// <param name="IfIndex">Its ifindex in the probing thread's network namespace.</param>
/// <param name="Mac">Its MAC: the failsafe port's, and the one its VF is matched by.</param>
/// <param name="IsNetvsc">False when force=1 made a non-NetVSC netdev a target.</param>
/// <param name="IsRouted">True when it has IPv4/IPv6 addresses (used only when named explicitly, with a warning).</param>
public sealed record NetvscTarget(string Name, int IfIndex, MacAddress Mac, bool IsNetvsc, bool IsRouted);
