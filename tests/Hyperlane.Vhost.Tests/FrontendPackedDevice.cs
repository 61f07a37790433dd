using System.Buffers.Binary;
using Hyperlane.Packets;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The device side of a packed ring the frontend laid out (virtio 1.2 §2.8), reached through the SET_VRING_ADDR
/// addresses (desc = ring, avail = driver event area, used = device event area) and the backend's mappings.
/// </summary>
internal sealed class FrontendPackedDevice
{
    private const ushort AvailBit = (ushort)VirtqDescFlags.Avail;
    private const ushort UsedBit = (ushort)VirtqDescFlags.Used;
    private readonly FrontendTestMemory _memory;
    private readonly VhostVringAddr _addr;

    public FrontendPackedDevice(FrontendTestMemory memory, VhostVringAddr addr, int size)
    {
        _memory = memory;
        _addr = addr;
        Size = size;
    }

    public int Size { get; }

    public int AvailSlot { get; private set; }

    public bool AvailWrap { get; private set; } = true;

    public int UsedSlot { get; private set; }

    public bool UsedWrap { get; private set; } = true;

    public ushort DriverEventFlags => _memory.ReadU16(_addr.AvailUserAddr + 2);

    public ushort DeviceEventFlags
    {
        set => _memory.WriteU16(_addr.UsedUserAddr + 2, value);
    }

    public VirtqPackedDesc Desc(int slot)
    {
        Span<byte> d = _memory.Guest(_addr.DescUserAddr + (ulong)(16 * slot), 16);
        return new VirtqPackedDesc(
            BinaryPrimitives.ReadUInt64LittleEndian(d),
            BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(d[12..]),
            (VirtqDescFlags)BinaryPrimitives.ReadUInt16LittleEndian(d[14..]));
    }

    public ushort Flags(int slot) => _memory.ReadU16(_addr.DescUserAddr + (ulong)(16 * slot) + 14);

    /// <summary>Takes the next available buffer: its descriptors, the ID (from its last descriptor).</summary>
    public bool TryPop(out Buffer buffer)
    {
        buffer = default!;
        ushort flags = Flags(AvailSlot);
        bool avail = (flags & AvailBit) != 0;
        bool used = (flags & UsedBit) != 0;
        if (avail != AvailWrap || used == AvailWrap)
        {
            return false;
        }

        var descs = new List<VirtqPackedDesc>();
        while (true)
        {
            VirtqPackedDesc d = Desc(AvailSlot);
            descs.Add(d);
            if (++AvailSlot == Size)
            {
                AvailSlot = 0;
                AvailWrap = !AvailWrap;
            }

            if (((VirtqDescFlags)d.Flags & VirtqDescFlags.Next) == 0)
            {
                break;
            }

            Assert.True(descs.Count <= Size, "descriptor chain longer than the ring");
        }

        buffer = new Buffer(descs[^1].Id, descs);
        return true;
    }

    public List<Buffer> PopAll()
    {
        var list = new List<Buffer>();
        while (TryPop(out Buffer b))
        {
            list.Add(b);
        }

        return list;
    }

    public byte[] ReadBuffer(Buffer buffer)
    {
        var bytes = new List<byte>();
        foreach (VirtqPackedDesc d in buffer.Descs)
        {
            Assert.Equal(VirtqDescFlags.None, (VirtqDescFlags)d.Flags & VirtqDescFlags.Write);
            bytes.AddRange(_memory.Guest(d.Addr, (int)d.Len).ToArray());
        }

        return [.. bytes];
    }

    public uint WriteRx(Buffer buffer, ReadOnlySpan<byte> data, ushort numBuffers)
    {
        VirtqPackedDesc d = buffer.Descs[0];
        Assert.Equal(VirtqDescFlags.Write, (VirtqDescFlags)d.Flags & VirtqDescFlags.Write);
        Span<byte> bytes = _memory.Guest(d.Addr, VirtioNetHeader.Size + data.Length);
        bytes[..VirtioNetHeader.Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[10..], numBuffers);
        data.CopyTo(bytes[VirtioNetHeader.Size..]);
        return (uint)(VirtioNetHeader.Size + data.Length);
    }

    /// <summary>Writes a used descriptor at the used slot (id, len, then flags) and moves past <paramref name="descriptors"/> slots.</summary>
    public void Use(ushort id, uint len, int descriptors)
    {
        ulong at = _addr.DescUserAddr + (ulong)(16 * UsedSlot);
        _memory.WriteU32(at + 8, len);
        _memory.WriteU16(at + 12, id);
        _memory.WriteU16(at + 14, UsedWrap ? (ushort)(AvailBit | UsedBit) : (ushort)0);
        UsedSlot += descriptors;
        if (UsedSlot >= Size)
        {
            UsedSlot -= Size;
            UsedWrap = !UsedWrap;
        }
    }

    internal sealed record Buffer(ushort Id, List<VirtqPackedDesc> Descs);
}
