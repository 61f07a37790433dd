using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>A fake guest, a test driver on one packed ring, the <see cref="PackedVhostQueue"/> under test on the same ring, a mempool, and optionally a call eventfd and a dirty log.</summary>
internal sealed class PackedTestBench : IDisposable
{
    public const ulong Version1 = 1UL << VirtioFeatures.Version1;
    public const ulong RingPacked = 1UL << VirtioFeatures.RingPacked;
    public const ulong MrgRxbuf = 1UL << VirtioFeatures.NetMrgRxbuf;
    public const ulong IndirectDesc = 1UL << VirtioFeatures.RingIndirectDesc;
    public const ulong EventIdx = 1UL << VirtioFeatures.RingEventIdx;
    public const ulong InOrder = 1UL << VirtioFeatures.InOrder;
    public const ulong Modern = Version1 | RingPacked;

    private readonly MemoryRegion? _logRegion;

    private PackedTestBench(PackedTestGuest guest, PackedRingDriver driver, PackedVhostQueue queue, Mempool pool, EventFd? call, DirtyLog? log, MemoryRegion? logRegion, ulong features)
    {
        Guest = guest;
        Driver = driver;
        Queue = queue;
        Pool = pool;
        Call = call;
        Log = log;
        _logRegion = logRegion;
        Features = features;
    }

    public PackedTestGuest Guest { get; }

    public PackedRingDriver Driver { get; }

    public PackedVhostQueue Queue { get; }

    public Mempool Pool { get; }

    public EventFd? Call { get; }

    public DirtyLog? Log { get; }

    public ulong Features { get; }

    public int HeaderLength => VirtioFeatures.NetHeaderSize(Features);

    public VhostQueueStats Stats => Queue.Stats;

    public static PackedTestBench Create(
        int size = 256,
        ulong features = Modern,
        bool call = false,
        bool log = false,
        bool logUsedRing = false,
        int poolSize = 2048,
        int dataRoom = Mempool.DefaultDataRoomSize,
        long guestSize = 16 << 20,
        long secondRegion = 0)
    {
        var guest = new PackedTestGuest(guestSize, 4 << 20, secondRegion);
        var driver = new PackedRingDriver(guest, size);
        EventFd? callFd = call ? new EventFd() : null;
        MemoryRegion? logRegion = null;
        DirtyLog? dirtyLog = null;
        if (log)
        {
            logRegion = MemoryRegion.Create($"pk-log-{Guid.NewGuid():N}", 4096, new RegionOptions { AllowHugepages = false });
            dirtyLog = new DirtyLog(logRegion.Address, 4096);
        }

        var setup = new VirtqueueSetup
        {
            Index = 1,
            Size = size,
            DescUserAddr = guest.UserOf(driver.RingGpa),
            AvailUserAddr = guest.UserOf(driver.DriverEventGpa),
            UsedUserAddr = guest.UserOf(driver.DeviceEventGpa),
            UsedLogGuestAddr = driver.DeviceEventGpa,
            LogUsedRing = logUsedRing,
            Base = 0x8000,
            Features = features,
            Memory = guest.Memory,
            Log = dirtyLog,
            Call = callFd,
        };
        Assert.True(PackedVhostQueue.TryCreate(setup, out var queue, out var error), error);
        var pool = Mempool.CreatePacketPool($"pk-{Guid.NewGuid():N}", poolSize, cacheSize: 0, dataRoomSize: dataRoom);
        return new PackedTestBench(guest, driver, queue!, pool, callFd, dirtyLog, logRegion, features);
    }

    /// <summary>Signals the call eventfd received since the last look.</summary>
    public ulong TakeSignals()
    {
        Assert.NotNull(Call);
        return Call!.TryRead(out ulong value).IsSuccess ? value : 0;
    }

    /// <summary>Puts a transmit packet (header + payload) into new scratch buffers split as <paramref name="split"/> (element lengths; the rest in a last element) and posts it.</summary>
    public ushort PostTx(byte[] payload, int[]? split = null, bool indirect = false, byte headerFill = 0)
    {
        byte[] frame = new byte[HeaderLength + payload.Length];
        frame.AsSpan(0, HeaderLength).Fill(headerFill);
        payload.CopyTo(frame, HeaderLength);
        var elements = new List<PackedTestElement>();
        int offset = 0;
        foreach (int part in split ?? [])
        {
            elements.Add(PlaceScratch(frame.AsSpan(offset, part), write: false));
            offset += part;
        }

        if (offset < frame.Length || elements.Count == 0)
        {
            elements.Add(PlaceScratch(frame.AsSpan(offset), write: false));
        }

        return indirect
            ? Driver.PostIndirect(Guest.Scratch(elements.Count * VirtqPackedDesc.Size, 16), [.. elements])
            : Driver.Post([.. elements]);
    }

    /// <summary>Posts a receive chain of device-writable scratch buffers of the given lengths.</summary>
    public ushort PostRx(params int[] lengths) => PostRx(false, lengths);

    public ushort PostRx(bool indirect, params int[] lengths)
    {
        var elements = new PackedTestElement[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            ulong gpa = Guest.Scratch(lengths[i]);
            Guest.Bytes(gpa, lengths[i]).Fill(0xEE);
            elements[i] = new PackedTestElement(gpa, (uint)lengths[i], true);
        }

        return indirect ? Driver.PostIndirect(Guest.Scratch(elements.Length * VirtqPackedDesc.Size, 16), elements) : Driver.Post(elements);
    }

    public PackedTestElement PlaceScratch(ReadOnlySpan<byte> bytes, bool write)
    {
        ulong gpa = Guest.Scratch(Math.Max(bytes.Length, 1));
        Guest.Write(gpa, bytes);
        return new PackedTestElement(gpa, (uint)bytes.Length, write);
    }

    /// <summary>The bytes the device wrote into a used receive chain (its first <c>Len</c> bytes, across elements).</summary>
    public byte[] Written(in PackedTestUsed used)
    {
        var bytes = new byte[used.Len];
        int done = 0;
        foreach (var e in used.Elements)
        {
            int n = (int)Math.Min(e.Len, used.Len - (uint)done);
            Guest.Bytes(e.Gpa, n).CopyTo(bytes.AsSpan(done));
            done += n;
            if (done == bytes.Length)
            {
                break;
            }
        }

        Assert.Equal(bytes.Length, done);
        return bytes;
    }

    /// <summary>Takes one received packet: its used chains (num_buffers of them), the header and the payload.</summary>
    public (VirtioNetHeader Header, byte[] Payload, int Buffers) ReceivePacket()
    {
        Assert.True(Driver.TryTakeUsed(out var first), "no used receive descriptor");
        Assert.NotEqual(0, first.Flags & (ushort)VirtqDescFlags.Write);
        byte[] bytes = Written(first);
        Assert.True(bytes.Length >= HeaderLength);
        VirtioNetHeader header = default;
        bytes.AsSpan(0, HeaderLength).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref header)));
        var payload = new List<byte>(bytes.AsSpan(HeaderLength).ToArray());
        int buffers = (Features & MrgRxbuf) != 0 ? header.NumBuffers : 1;
        for (int i = 1; i < buffers; i++)
        {
            Assert.True(Driver.TryTakeUsed(out var more), $"buffer {i} of {buffers} missing");
            payload.AddRange(Written(more));
        }

        return (header, payload.ToArray(), buffers);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 7) + seed);
        }

        return b;
    }

    /// <summary>An mbuf packet holding <paramref name="data"/>, chained over as many mbufs as it needs.</summary>
    public Mbuf MakePacket(ReadOnlySpan<byte> data)
    {
        Mbuf head = Pool.Alloc();
        Assert.False(head.IsNull);
        Mbuf tail = head;
        int done = 0;
        while (true)
        {
            int n = Math.Min(tail.Tailroom, data.Length - done);
            Assert.True(head.TryAppend(n, out var span)); // appends to the last segment, counts in the head
            data.Slice(done, n).CopyTo(span);
            done += n;
            if (done == data.Length)
            {
                return head;
            }

            Mbuf next = Pool.Alloc();
            Assert.False(next.IsNull);
            Assert.True(head.TryChain(next));
            tail = next;
        }
    }

    public static byte[] Contents(Mbuf packet)
    {
        Assert.Null(packet.Validate());
        var bytes = new byte[packet.PacketLength];
        Assert.Equal(bytes.Length, packet.CopyTo(bytes));
        return bytes;
    }

    /// <summary>Every mbuf is back in the pool.</summary>
    public void AssertNoLeaks()
    {
        Assert.Equal(0, Pool.Audit().InUse);
        Assert.Equal(0, Pool.DoubleFreeCount);
    }

    public void Dispose()
    {
        Pool.Dispose();
        Call?.Dispose();
        _logRegion?.Dispose();
        Guest.Dispose();
    }
}
