namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// What was wrong with something the backend wrote into a driver-side ring (used ring, used descriptor, virtio-net
/// header), or with a packet handed to <see cref="IVirtioDriverQueue.Transmit"/>. Recorded without allocating in
/// <see cref="VirtioDriverQueueStats"/>; the control side turns it into a log line.
/// </summary>
public enum DriverQueueFault
{
    /// <summary>No fault.</summary>
    None = 0,

    /// <summary>A used id (split: used_elem.id; packed: the used descriptor's Buffer ID) is not below the ring size.</summary>
    UsedIdOutOfRange,

    /// <summary>A used id names a buffer the driver does not have in flight (never posted, or already used).</summary>
    UsedIdNotInFlight,

    /// <summary>A used length is larger than the device-writable buffer the driver posted.</summary>
    UsedLengthTooLong,

    /// <summary>A receive buffer's used length cannot hold the virtio-net header and an Ethernet header.</summary>
    UsedLengthTooShort,

    /// <summary>num_buffers (VIRTIO_NET_F_MRG_RXBUF) is 0, more than the driver has in flight, or more than an mbuf chain holds.</summary>
    NumBuffersInvalid,

    /// <summary>Split ring: used-&gt;idx moved by more than the buffers outstanding. The queue stops (broken) until reset.</summary>
    UsedIndexJump,

    /// <summary>Packed ring: a descriptor marked used where the driver cannot tell which buffer it was. The queue stops (broken) until reset.</summary>
    UsedWithoutBuffer,

    /// <summary>A merged receive packet longer than <see cref="Hyperlane.Memory.Mbuf.MaxPacketLength"/>.</summary>
    PacketTooLong,

    /// <summary>Transmit: a segment lies outside every memory region shared with the backend (dropped: the backend could not read it).</summary>
    TxSegmentNotShared,

    /// <summary>Transmit: the packet needs more descriptors than the ring has (dropped).</summary>
    TxTooManySegments,
}
