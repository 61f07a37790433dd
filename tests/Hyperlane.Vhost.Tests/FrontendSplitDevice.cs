using System.Buffers.Binary;
using Hyperlane.Packets;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The device side of a split ring the frontend laid out, reached only through the addresses of SET_VRING_ADDR and
/// the backend's mappings (virtio 1.2 §2.7: read avail, follow descriptors, write used). It can also write hostile
/// used entries.
/// </summary>
internal sealed class FrontendSplitDevice
{
    private readonly FrontendTestMemory _memory;
    private readonly VhostVringAddr _addr;

    public FrontendSplitDevice(FrontendTestMemory memory, VhostVringAddr addr, int size)
    {
        _memory = memory;
        _addr = addr;
        Size = size;
    }

    public int Size { get; }

    /// <summary>The next avail entry the device reads.</summary>
    public ushort LastAvail { get; set; }

    /// <summary>The next used entry the device writes.</summary>
    public ushort UsedIdx { get; set; }

    public ushort AvailFlags => _memory.ReadU16(_addr.AvailUserAddr);

    public ushort AvailIdx => _memory.ReadU16(_addr.AvailUserAddr + 2);

    public ushort UsedFlags
    {
        get => _memory.ReadU16(_addr.UsedUserAddr);
        set => _memory.WriteU16(_addr.UsedUserAddr, value);
    }

    public ushort PublishedUsedIdx => _memory.ReadU16(_addr.UsedUserAddr + 2);

    public ushort AvailEntry(int index) => _memory.ReadU16(_addr.AvailUserAddr + 4 + (ulong)(2 * (index % Size)));

    public VirtqDesc Desc(int index)
    {
        Span<byte> d = _memory.Guest(_addr.DescUserAddr + (ulong)(16 * index), 16);
        return new VirtqDesc(
            BinaryPrimitives.ReadUInt64LittleEndian(d),
            BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
            (VirtqDescFlags)BinaryPrimitives.ReadUInt16LittleEndian(d[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(d[14..]));
    }

    public bool TryPop(out ushort head)
    {
        if (LastAvail == AvailIdx)
        {
            head = 0;
            return false;
        }

        head = AvailEntry(LastAvail);
        LastAvail++;
        return true;
    }

    public List<ushort> PopAll()
    {
        var heads = new List<ushort>();
        while (TryPop(out ushort head))
        {
            heads.Add(head);
        }

        return heads;
    }

    /// <summary>The descriptors of the chain at <paramref name="head"/>.</summary>
    public List<VirtqDesc> Chain(ushort head)
    {
        var chain = new List<VirtqDesc>();
        int index = head;
        for (int i = 0; i <= Size; i++)
        {
            VirtqDesc d = Desc(index);
            chain.Add(d);
            if (((VirtqDescFlags)d.Flags & VirtqDescFlags.Next) == 0)
            {
                return chain;
            }

            index = d.Next;
        }

        throw new InvalidOperationException("descriptor loop");
    }

    /// <summary>All bytes of a device-readable chain (virtio-net header + packet).</summary>
    public byte[] ReadChain(ushort head)
    {
        var bytes = new List<byte>();
        foreach (VirtqDesc d in Chain(head))
        {
            Assert.Equal(VirtqDescFlags.None, (VirtqDescFlags)d.Flags & VirtqDescFlags.Write);
            bytes.AddRange(_memory.Guest(d.Addr, (int)d.Len).ToArray());
        }

        return [.. bytes];
    }

    /// <summary>Writes a header (num_buffers) and <paramref name="data"/> into the single device-writable buffer at <paramref name="head"/>; returns the used length.</summary>
    public uint WriteRx(ushort head, ReadOnlySpan<byte> data, ushort numBuffers, bool withHeader = true)
    {
        VirtqDesc d = Desc(head);
        Assert.Equal(VirtqDescFlags.Write, (VirtqDescFlags)d.Flags);
        int headerSize = withHeader ? VirtioNetHeader.Size : 0;
        Assert.True(headerSize + data.Length <= d.Len, $"{data.Length} bytes do not fit a {d.Len}-byte buffer");
        Span<byte> buffer = _memory.Guest(d.Addr, headerSize + data.Length);
        if (withHeader)
        {
            buffer[..VirtioNetHeader.Size].Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[10..], numBuffers);
        }

        data.CopyTo(buffer[headerSize..]);
        return (uint)(headerSize + data.Length);
    }

    public void WriteUsed(ushort position, uint id, uint len)
    {
        ulong at = _addr.UsedUserAddr + 4 + (ulong)(8 * (position % Size));
        _memory.WriteU32(at, id);
        _memory.WriteU32(at + 4, len);
    }

    public void PublishUsed(ushort idx) => _memory.WriteU16(_addr.UsedUserAddr + 2, idx);

    /// <summary>Marks one buffer used and publishes the index.</summary>
    public void Use(uint id, uint len)
    {
        WriteUsed(UsedIdx, id, len);
        UsedIdx++;
        PublishUsed(UsedIdx);
    }
}
