namespace Hyperlane.Cli.Doctor;

/// <summary>/dev/net/tun: present, and openable read-write (what net_tap does first).</summary>
public sealed record TunDevice(bool Present, bool Openable, string? Error);
