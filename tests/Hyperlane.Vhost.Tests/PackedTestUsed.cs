namespace Hyperlane.Vhost.Tests;

/// <summary>A used descriptor the test driver took back: what the device wrote, and what the driver had posted under it.</summary>
internal readonly record struct PackedTestUsed(int Position, ushort Id, uint Len, ushort Flags, int Descriptors, PackedTestElement[] Elements);
