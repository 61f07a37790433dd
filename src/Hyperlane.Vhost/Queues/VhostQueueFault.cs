namespace Hyperlane.Vhost.Queues;

/// <summary>What was wrong with something the guest put in a ring (recorded without allocating; the control side turns it into a log line).</summary>
public enum VhostQueueFault
{
    None = 0,

    /// <summary>The avail index moved by more than the ring size since the last look.</summary>
    AvailIndexJump,

    /// <summary>A head or next descriptor index is not below the ring size.</summary>
    DescriptorIndexOutOfRange,

    /// <summary>A chain has more descriptors than the ring (or indirect table) holds: a loop.</summary>
    ChainTooLong,

    /// <summary>A descriptor's address range is not wholly inside one region of the memory table.</summary>
    AddressNotMapped,

    /// <summary>An indirect table whose length is 0, not a multiple of 16, larger than allowed, or not mapped.</summary>
    BadIndirectTable,

    /// <summary>An indirect descriptor inside an indirect table, or INDIRECT together with NEXT.</summary>
    NestedIndirect,

    /// <summary>A device-writable descriptor in a chain the device must only read (transmitq), or the reverse (receiveq).</summary>
    WrongDirection,

    /// <summary>Lengths whose sum overflows, or a packet longer than <see cref="Hyperlane.Memory.Mbuf.MaxPacketLength"/>.</summary>
    LengthOverflow,

    /// <summary>A chain too short for the virtio-net header.</summary>
    HeaderTooShort,

    /// <summary>A packed descriptor's buffer id not below the ring size, or reused while in flight.</summary>
    BadBufferId,

    /// <summary>A packed chain whose NEXT flag leads to a descriptor the driver has not made available (a partial chain, §2.8.6).</summary>
    ChainNotAvailable,
}
