namespace Hyperlane.Core.Tests;

/// <summary>Driver hooks of <see cref="TestEthDev"/> that a test can make throw.</summary>
public enum TestHook
{
    Configure,
    SetupRx,
    SetupTx,
    Start,
    Stop,
    Close,
    Reset,
    SetMtu,
    SetPromiscuous,
    SetMac,
}
