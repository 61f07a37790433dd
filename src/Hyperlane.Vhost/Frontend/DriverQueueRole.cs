namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// What a driver-side virtqueue carries (virtio 1.2 §5.1.2 "Virtqueues": receiveq N = vring 2N, transmitq N =
/// vring 2N+1). A receive queue keeps device-writable buffers posted; a transmit queue posts device-readable packets.
/// </summary>
public enum DriverQueueRole
{
    /// <summary>receiveq: the device writes packets into buffers the driver posted.</summary>
    Receive = 0,

    /// <summary>transmitq: the device reads packets the driver posted.</summary>
    Transmit = 1,
}
