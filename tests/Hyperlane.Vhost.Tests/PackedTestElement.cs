namespace Hyperlane.Vhost.Tests;

/// <summary>One buffer element a test driver puts in a packed descriptor (guest-physical address, length, device-writable).</summary>
internal readonly record struct PackedTestElement(ulong Gpa, uint Len, bool Write);
