namespace Hyperlane.Vhost.Queues;

/// <summary>
/// One buffer of a descriptor chain after <see cref="SplitChainWalker"/> validated and translated it: the guest's
/// address (kept for the dirty log), our address of the same bytes and the length, all taken from one copy of the
/// descriptor. The whole range lies inside one guest memory region.
/// </summary>
internal readonly struct SplitBuffer
{
    public SplitBuffer(ulong guestPhysAddr, nint hostAddr, uint length)
    {
        GuestPhysAddr = guestPhysAddr;
        HostAddr = hostAddr;
        Length = length;
    }

    /// <summary>desc.addr: the guest-physical address of the first byte.</summary>
    public ulong GuestPhysAddr { get; }

    /// <summary>Our address of the first byte.</summary>
    public nint HostAddr { get; }

    /// <summary>desc.len (never 0: empty descriptors are skipped).</summary>
    public uint Length { get; }
}
