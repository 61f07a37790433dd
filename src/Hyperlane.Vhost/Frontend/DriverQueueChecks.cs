using System.Globalization;
using Hyperlane.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>The checks a driver queue's construction makes, shared by the split and packed queues.</summary>
internal static class DriverQueueChecks
{
    /// <summary>Smallest data room a receive pool may have: the default headroom plus a minimum Ethernet frame's worth.</summary>
    public const int MinRxDataRoom = MbufHeader.DefaultHeadroom + 64;

    /// <summary>Checks <paramref name="setup"/> against the area and the table; returns the receive pool (null for transmit).</summary>
    public static Mempool? Validate(DriverRingArea area, FrontendMemoryTable memory, DriverQueueSetup setup)
    {
        if (setup.VringIndex is < 0 or > 255)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"vring index {setup.VringIndex} is not 0 to 255"), nameof(setup));
        }

        if (!VirtioFeatures.IsSet(setup.Features, VirtioFeatures.Version1))
        {
            throw new ArgumentException("the queue needs VIRTIO_F_VERSION_1 (12-byte virtio-net header, little-endian rings)", nameof(setup));
        }

        if (!memory.Contains(area.Region))
        {
            throw new ArgumentException($"the ring area '{area.Region.Name}' is not in the memory table: the backend could not map the rings", nameof(memory));
        }

        if (setup.Role == DriverQueueRole.Transmit)
        {
            return null;
        }

        Mempool pool = setup.RxPool ?? throw new ArgumentException("a receive queue needs RxPool", nameof(setup));
        if (!pool.IsPacketPool || pool.DataRoomSize < MinRxDataRoom)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"mempool '{pool.Name}' is not a packet pool with a data room of at least {MinRxDataRoom} bytes"),
                nameof(setup));
        }

        if (!memory.Contains(pool.Region))
        {
            throw new ArgumentException($"the region of receive pool '{pool.Name}' is not in the memory table: the backend could not write into its buffers", nameof(memory));
        }

        return pool;
    }
}
