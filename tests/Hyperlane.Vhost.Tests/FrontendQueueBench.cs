using System.Buffers.Binary;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// One driver queue over a fresh ring area and pool, with the device side reached the way a backend reaches it:
/// through its own mappings of the memfds, at the addresses of the queue's SET_VRING_ADDR payload.
/// </summary>
internal sealed class FrontendQueueBench : IDisposable
{
    public FrontendQueueBench(bool packed, DriverQueueRole role, ulong features, int size = 256, int poolSize = 2048, ushort port = 7)
    {
        Pool = FrontendTestKit.Pool(poolSize);
        long bytes = packed ? PackedDriverQueue.RingAreaBytes(size) : SplitDriverQueue.RingAreaBytes(size);
        Area = DriverRingArea.Create("fe-bench", bytes);
        Table = new FrontendMemoryTable(Area.Region, Pool.Region);
        var setup = new DriverQueueSetup
        {
            VringIndex = role == DriverQueueRole.Receive ? 0 : 1,
            Size = size,
            Role = role,
            Features = features | V1 | (packed ? FrontendTestKit.Packed : 0),
            RxPool = role == DriverQueueRole.Receive ? Pool : null,
            Port = port,
        };
        Queue = packed ? new PackedDriverQueue(Area, Table, setup) : new SplitDriverQueue(Area, Table, setup);
        Memory = FrontendTestMemory.From(Table);
        if (packed)
        {
            PackedDevice = new FrontendPackedDevice(Memory, Queue.RingAddress, size);
        }
        else
        {
            SplitDevice = new FrontendSplitDevice(Memory, Queue.RingAddress, size);
        }

        if (role == DriverQueueRole.Receive)
        {
            Queue.Fill();
        }

        Queue.Start();
    }

    public Mempool Pool { get; }

    public DriverRingArea Area { get; }

    public FrontendMemoryTable Table { get; }

    public FrontendTestMemory Memory { get; }

    public IVirtioDriverQueue Queue { get; }

    public FrontendSplitDevice? SplitDevice { get; }

    public FrontendPackedDevice? PackedDevice { get; }

    public VirtioDriverQueueStats Stats => Queue.Stats;

    public bool IsPacked => PackedDevice is not null;

    /// <summary>Takes every buffer the driver made available, in order.</summary>
    public List<FrontendDeviceBuffer> PopAll()
    {
        if (PackedDevice is { } packed)
        {
            return [.. packed.PopAll().Select(b => new FrontendDeviceBuffer(b.Id, [.. b.Descs.Select(d => new FrontendDeviceDesc(d.Addr, d.Len, (VirtqDescFlags)d.Flags))]))];
        }

        FrontendSplitDevice split = SplitDevice!;
        return [.. split.PopAll().Select(h => new FrontendDeviceBuffer(h, [.. split.Chain(h).Select(d => new FrontendDeviceDesc(d.Addr, d.Len, (VirtqDescFlags)d.Flags))]))];
    }

    /// <summary>The bytes of a device-readable buffer (header + packet), through the backend's mapping.</summary>
    public byte[] Read(FrontendDeviceBuffer buffer)
    {
        var bytes = new List<byte>();
        foreach (FrontendDeviceDesc d in buffer.Descs)
        {
            Assert.Equal(VirtqDescFlags.None, d.Flags & VirtqDescFlags.Write);
            bytes.AddRange(Memory.Guest(d.Addr, (int)d.Len).ToArray());
        }

        return [.. bytes];
    }

    /// <summary>Writes a header with num_buffers and <paramref name="data"/> into a receive buffer; returns the used length.</summary>
    public uint WriteRx(FrontendDeviceBuffer buffer, ReadOnlySpan<byte> data, ushort numBuffers)
    {
        FrontendDeviceDesc d = Assert.Single(buffer.Descs);
        Assert.Equal(VirtqDescFlags.Write, d.Flags & VirtqDescFlags.Write);
        Assert.True(VirtioNetHeader.Size + data.Length <= d.Len);
        Span<byte> bytes = Memory.Guest(d.Addr, VirtioNetHeader.Size + data.Length);
        bytes[..VirtioNetHeader.Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[10..], numBuffers);
        data.CopyTo(bytes[VirtioNetHeader.Size..]);
        return (uint)(VirtioNetHeader.Size + data.Length);
    }

    /// <summary>Writes raw bytes at the start of a receive buffer: a further buffer of a merged packet.</summary>
    public uint WriteRaw(FrontendDeviceBuffer buffer, ReadOnlySpan<byte> data)
    {
        FrontendDeviceDesc d = Assert.Single(buffer.Descs);
        Assert.True(data.Length <= d.Len);
        data.CopyTo(Memory.Guest(d.Addr, data.Length));
        return (uint)data.Length;
    }

    /// <summary>Marks a buffer used (split: used element + index; packed: used descriptor).</summary>
    public void Use(FrontendDeviceBuffer buffer, uint len) => Use(buffer.Id, len, buffer.Descs.Count);

    public void Use(ushort id, uint len, int descriptors)
    {
        if (PackedDevice is { } packed)
        {
            packed.Use(id, len, descriptors);
        }
        else
        {
            SplitDevice!.Use(id, len);
        }
    }

    /// <summary>The device asks for no kicks (used->flags NO_NOTIFY / device event DISABLE) or for kicks again.</summary>
    public void SuppressKicks(bool suppress)
    {
        if (PackedDevice is { } packed)
        {
            packed.DeviceEventFlags = suppress ? (ushort)PackedEventFlags.Disable : (ushort)PackedEventFlags.Enable;
        }
        else
        {
            SplitDevice!.UsedFlags = suppress ? VirtqUsedHeader.FlagNoNotify : (ushort)0;
        }
    }

    /// <summary>Kicks counted by the kick eventfd since the last call.</summary>
    public ulong TakeKicks() => Queue.KickFd.TryRead(out ulong value).IsSuccess ? value : 0;

    /// <summary>Disposes the queue (it frees what is in flight) and checks that every mbuf went back.</summary>
    public void DisposeAndAssertNoLeak()
    {
        Queue.Dispose();
        AssertNoLeak(Pool);
    }

    public void Dispose()
    {
        Queue.Dispose();
        Memory.Dispose();
        Area.Dispose();
        Pool.Dispose();
    }
}
