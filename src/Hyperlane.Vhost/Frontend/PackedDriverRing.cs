using System.Runtime.CompilerServices;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The driver's view of a packed virtqueue it laid out in its own shared memory (virtio 1.2 §2.8: descriptor ring,
/// driver event suppression area, device event suppression area). Both sides write descriptors: the driver makes
/// them available, the device overwrites them as used. Flags are loaded with acquire ordering before the other
/// fields of a used descriptor (§2.8.21 "Receiving Used Buffers"), each with one load. Slots at or past the ring
/// size are folded back into it, so no caller can reach outside the ring.
/// </summary>
internal readonly unsafe struct PackedDriverRing
{
    private readonly byte* _ring;
    private readonly byte* _driverEvent;
    private readonly byte* _deviceEvent;
    private readonly uint _size;

    /// <summary>A view over a ring of <paramref name="size"/> descriptors (1 to 32768).</summary>
    public PackedDriverRing(nint ring, nint driverEvent, nint deviceEvent, uint size)
    {
        _ring = (byte*)ring;
        _driverEvent = (byte*)driverEvent;
        _deviceEvent = (byte*)deviceEvent;
        _size = size;
    }

    /// <summary>Writes addr, len and id of the descriptor at <paramref name="slot"/>; not its flags.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteBody(ushort slot, ulong addr, uint len, ushort id)
    {
        byte* d = Desc(slot);
        Unsafe.WriteUnaligned(d, addr);
        Unsafe.WriteUnaligned(d + 8, len);
        Unsafe.WriteUnaligned(d + 12, id);
    }

    /// <summary>Writes the flags of a descriptor that is not the head of its buffer (the head's flags publish the whole buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteFlags(ushort slot, ushort flags) => *(ushort*)(Desc(slot) + 14) = flags;

    /// <summary>Writes a head descriptor's flags with release ordering: the buffer becomes available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PublishFlags(ushort slot, ushort flags) => Volatile.Write(ref *(ushort*)(Desc(slot) + 14), flags);

    /// <summary>The flags at <paramref name="slot"/>, one acquire load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadFlags(ushort slot) => Volatile.Read(ref *(ushort*)(Desc(slot) + 14));

    /// <summary>len (bits 0-31) and id (bits 32-47) of the descriptor at <paramref name="slot"/>, one 8-byte load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadLenId(ushort slot) => Unsafe.ReadUnaligned<ulong>(Desc(slot) + 8);

    /// <summary>Driver event suppression: desc = 0, flags = <paramref name="flags"/>.</summary>
    public void WriteDriverEvent(PackedEventFlags flags) => Volatile.Write(ref *(uint*)_driverEvent, (uint)flags << 16);

    /// <summary>The device event suppression area's flags (desc_event_flags, reserved bits dropped), one load.</summary>
    public PackedEventFlags ReadDeviceEventFlags() =>
        (PackedEventFlags)(Volatile.Read(ref *(ushort*)(_deviceEvent + 2)) & VirtqPackedEventSuppress.FlagsMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Desc(ushort slot) => _ring + ((slot < _size ? slot : slot % _size) * (uint)VirtqPackedDesc.Size);
}
