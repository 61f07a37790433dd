using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// struct pvirtq_event_suppress (virtio 1.2 §2.8.14 "Event Suppression Structure Format"), 4 bytes: the driver
/// event suppression area (written by the driver) and the device event suppression area (written by the device)
/// of a packed virtqueue. <c>desc</c> = desc_event_off (bits 0-14) | desc_event_wrap (bit 15); <c>flags</c> =
/// desc_event_flags (bits 0-1: <see cref="PackedEventFlags"/>), bits 2-15 reserved.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtqPackedEventSuppress
{
    /// <summary>sizeof(struct pvirtq_event_suppress).</summary>
    public const int Size = 4;

    /// <summary>Mask of desc_event_off in <see cref="Desc"/>.</summary>
    public const ushort OffsetMask = 0x7FFF;

    /// <summary>desc_event_wrap in <see cref="Desc"/>.</summary>
    public const ushort WrapBit = 0x8000;

    /// <summary>Mask of desc_event_flags in <see cref="Flags"/>.</summary>
    public const ushort FlagsMask = 0x3;

    /// <summary>desc: event offset and wrap counter (meaningful when flags is <see cref="PackedEventFlags.Desc"/>).</summary>
    public ushort Desc;

    /// <summary>flags: desc_event_flags in bits 0-1.</summary>
    public ushort Flags;

    /// <summary>desc_event_off: the descriptor ring offset at which an event is wanted.</summary>
    public readonly ushort EventOffset => (ushort)(Desc & OffsetMask);

    /// <summary>desc_event_wrap: the wrap counter value that goes with <see cref="EventOffset"/>.</summary>
    public readonly bool EventWrap => (Desc & WrapBit) != 0;

    /// <summary>desc_event_flags (reserved bits dropped).</summary>
    public readonly PackedEventFlags EventFlags => (PackedEventFlags)(Flags & FlagsMask);
}
