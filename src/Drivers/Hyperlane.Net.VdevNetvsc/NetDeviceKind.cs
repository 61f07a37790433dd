namespace Hyperlane.Net.VdevNetvsc;

/// <summary>What sysfs says a netdevice is, as far as vdev_netvsc cares.</summary>
public enum NetDeviceKind
{
    /// <summary>A NetVSC synthetic NIC: VMBus class_id {f8615163-df3e-46c5-913f-f2d2f965ed0e}, type 1 (ARPHRD_ETHER).</summary>
    Netvsc,

    /// <summary>A PCI function (device/subsystem is "pci"): on Azure, the accelerated-networking VF.</summary>
    PciDevice,

    /// <summary>Anything else that reads cleanly: a virtual interface, another VMBus class, another bus.</summary>
    Other,

    /// <summary>sysfs holds something Hyperlane cannot trust (garbage class_id, non-numeric type, a broken or unreadable entry).</summary>
    Unusable,

    /// <summary>No <c>/sys/class/net/NAME</c> under the root.</summary>
    Absent,
}
