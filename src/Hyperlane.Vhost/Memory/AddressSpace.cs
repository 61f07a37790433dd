namespace Hyperlane.Vhost.Memory;

/// <summary>Which of a region's three addresses a <see cref="GuestMemory"/> lookup compares against.</summary>
internal enum AddressSpace
{
    /// <summary>The guest-physical address (descriptor buffers, the log).</summary>
    GuestPhysical,

    /// <summary>The frontend's user address (vring addresses).</summary>
    User,

    /// <summary>Our host address (back to guest-physical for the dirty log).</summary>
    Host,
}
