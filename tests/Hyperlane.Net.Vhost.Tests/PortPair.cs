using Hyperlane.Memory;
using Hyperlane.Net.VirtioUser;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// A started net_vhost port and the virtio_user port connected to it, with their pools: net_vhost receives into
/// <see cref="VhostRxPool"/> and transmits from <see cref="VhostTxPool"/>; virtio_user receives into and transmits
/// from <see cref="VirtioPool"/> (it is in the memory table it shares).
/// </summary>
internal sealed record PortPair(VhostEthDev Vhost, VirtioUserEthDev Virtio, Mempool VhostRxPool, Mempool VhostTxPool, Mempool VirtioPool);
