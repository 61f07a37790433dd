namespace Hyperlane.Net.VdevNetvsc;

/// <summary>Why discovery (or the default selection) left a netdev out.</summary>
public enum SkipKind
{
    /// <summary>Not a NetVSC netdev (no device/class_id, another class, a PCI device, no sysfs entry). Normal.</summary>
    NotNetvsc,

    /// <summary>sysfs or the kernel gave something that cannot be used (garbage class_id, bad type, not Ethernet, odd MAC).</summary>
    Unusable,

    /// <summary>Marked NetVSC in sysfs, but no such netdev in the calling thread's network namespace.</summary>
    NotInNamespace,

    /// <summary>A NetVSC netdev with addresses: the default selection leaves it to the host (the management NIC).</summary>
    Routed,
}
