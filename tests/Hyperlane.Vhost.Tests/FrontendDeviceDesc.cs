using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>One descriptor of a buffer as the test device read it.</summary>
internal readonly record struct FrontendDeviceDesc(ulong Addr, uint Len, VirtqDescFlags Flags);
