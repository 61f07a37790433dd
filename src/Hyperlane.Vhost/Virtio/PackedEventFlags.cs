namespace Hyperlane.Vhost.Virtio;

/// <summary>
/// desc_event_flags of struct pvirtq_event_suppress (virtio 1.2 §2.8.14 "Event Suppression Structure Format";
/// RING_EVENT_FLAGS_*). Value 3 is reserved.
/// </summary>
#pragma warning disable CA1028 // the wire field is 16 bits
public enum PackedEventFlags : ushort
#pragma warning restore CA1028
{
    /// <summary>RING_EVENT_FLAGS_ENABLE (0): events are wanted.</summary>
    Enable = 0,

    /// <summary>RING_EVENT_FLAGS_DISABLE (1): no events.</summary>
    Disable = 1,

    /// <summary>RING_EVENT_FLAGS_DESC (2): an event only at the descriptor named by desc (VIRTIO_F_EVENT_IDX).</summary>
    Desc = 2,
}
