namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// The device status field (virtio 1.2 §2.1 "Device Status Field"): 8 bits, carried as a u64 by vhost-user
/// SET_STATUS / GET_STATUS (VHOST_USER_PROTOCOL_F_STATUS).
/// </summary>
[Flags]
#pragma warning disable CA1028 // the status field is 8 bits
public enum VirtioDeviceStatus : byte
#pragma warning restore CA1028
{
    /// <summary>0: reset.</summary>
    None = 0,

    /// <summary>ACKNOWLEDGE (1): the guest found the device.</summary>
    Acknowledge = 1,

    /// <summary>DRIVER (2): the guest knows how to drive it.</summary>
    Driver = 2,

    /// <summary>DRIVER_OK (4): the driver is set up.</summary>
    DriverOk = 4,

    /// <summary>FEATURES_OK (8): feature negotiation is complete.</summary>
    FeaturesOk = 8,

    /// <summary>DEVICE_NEEDS_RESET (64): the device hit an error it cannot recover from.</summary>
    DeviceNeedsReset = 64,

    /// <summary>FAILED (128): the guest gave up on the device.</summary>
    Failed = 128,
}
