namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// Back-end (backend → frontend, over the SET_BACKEND_REQ_FD channel) message types (vhost-user.rst "Back-end
/// message types"; spec name VHOST_USER_BACKEND_ + the upper-case name, formerly VHOST_USER_SLAVE_*).
/// </summary>
#pragma warning disable CA1028 // the wire field is a u32
public enum VhostUserBackendRequest : uint
#pragma warning restore CA1028
{
    /// <summary>Not a request.</summary>
    None = 0,

    /// <summary>VHOST_USER_BACKEND_IOTLB_MSG (1): IOTLB miss / access failure.</summary>
    IotlbMsg = 1,

    /// <summary>VHOST_USER_BACKEND_CONFIG_CHANGE_MSG (2): the device config space changed.</summary>
    ConfigChangeMsg = 2,

    /// <summary>VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG (3): vring area description + fd (HOST_NOTIFIER; vDPA).</summary>
    VringHostNotifierMsg = 3,

    /// <summary>VHOST_USER_BACKEND_VRING_CALL (4): in-band call (INBAND_NOTIFICATIONS).</summary>
    VringCall = 4,

    /// <summary>VHOST_USER_BACKEND_VRING_ERR (5): in-band error (INBAND_NOTIFICATIONS).</summary>
    VringErr = 5,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_ADD (6) (SHARED_OBJECT).</summary>
    SharedObjectAdd = 6,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE (7) (SHARED_OBJECT).</summary>
    SharedObjectRemove = 7,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP (8) (SHARED_OBJECT).</summary>
    SharedObjectLookup = 8,
}
