namespace Hyperlane.Vhost.Tests;

/// <summary>A buffer the test device took: its id (split: head index; packed: Buffer ID) and descriptors.</summary>
internal sealed record FrontendDeviceBuffer(ushort Id, IReadOnlyList<FrontendDeviceDesc> Descs);
