namespace Hyperlane.Vhost.Queues;

/// <summary>
/// One non-empty buffer element of a packed chain after <see cref="PackedVhostQueue"/> validated and translated it:
/// the guest-physical address (for the dirty log), our address of the same bytes and the length, all from one copy
/// of the descriptor. The whole range lies inside one guest memory region.
/// </summary>
internal readonly struct PackedSegment
{
    public PackedSegment(ulong guestPhysAddr, nint hostAddr, uint length)
    {
        GuestPhysAddr = guestPhysAddr;
        HostAddr = hostAddr;
        Length = length;
    }

    /// <summary>Element address: guest-physical address of the first byte.</summary>
    public ulong GuestPhysAddr { get; }

    /// <summary>Our address of the first byte.</summary>
    public nint HostAddr { get; }

    /// <summary>Element length (never 0: empty elements are skipped).</summary>
    public uint Length { get; }
}
