namespace Hyperlane.Cli.Doctor;

/// <summary>Whether socket(AF_XDP, SOCK_RAW, 0) succeeds in this process, or the errno it fails with.</summary>
public sealed record AfXdpSupport(bool Supported, string? Error);
