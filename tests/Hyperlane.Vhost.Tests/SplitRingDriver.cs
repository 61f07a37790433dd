using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A fake guest for <see cref="SplitVhostQueue"/> tests: guest RAM in a pinned array registered as guest memory
/// regions with made-up guest-physical and frontend user addresses, and the driver side of one split virtqueue
/// (virtio 1.2 §2.7.13 "Supplying Buffers to The Device", §2.7.14 "Receiving Used Buffers From The Device") laid out
/// in it: descriptor table, avail ring, used ring, buffers. It also has raw accessors to build hostile rings.
/// </summary>
/// <remarks>
/// Regions: A (the ring and all buffers) at gpa 1 MiB, 12 MiB; C guest-adjacent to A's end (gpa 13 MiB, 1 MiB) but
/// not host-adjacent; B far away (gpa 1 GiB, 1 MiB). The dirty log covers gpa 0 .. 16 MiB.
/// </remarks>
internal sealed class SplitRingDriver : IDisposable
{
    public const ulong RegionAGpa = 0x10_0000;
    public const ulong RegionASize = 12 << 20;
    public const ulong RegionAUser = 0x7F00_0010_0000;
    public const ulong RegionCGpa = RegionAGpa + RegionASize;
    public const ulong RegionCSize = 1 << 20;
    public const ulong RegionCUser = 0x7F00_2000_0000;
    public const ulong RegionBGpa = 0x4000_0000;
    public const ulong RegionBSize = 1 << 20;
    public const ulong RegionBUser = 0x7F00_4000_0000;

    public const ulong DescGpa = RegionAGpa;
    public const ulong AvailGpa = RegionAGpa + 0x8_0000;
    public const ulong UsedGpa = RegionAGpa + 0xA_0000;
    public const ulong BufferAreaGpa = RegionAGpa + 0x10_0000;
    public const ulong BufferAreaEnd = RegionAGpa + RegionASize;

    public const int LogBytes = 512; // 4096 pages: gpa below 16 MiB

    private const int RamBytes = (int)(RegionASize + RegionBSize + RegionCSize);
    private const int HostOffsetB = (int)RegionASize;
    private const int HostOffsetC = (int)(RegionASize + RegionBSize);

    private static int poolCounter;

    private readonly Stack<ushort> _free = new();
    private readonly Dictionary<ushort, Chain> _chains = [];
    private readonly int _origin;
    private ulong _bufferCursor = BufferAreaGpa;

    public SplitRingDriver(int size = 256, ulong features = 0, bool log = false, bool call = false, uint baseIndex = 0, int poolSize = 4096)
    {
        Size = size;
        Features = features;
        // Page-align "guest RAM" inside the pinned array, as a real mapping would be.
        Ram = GC.AllocateArray<byte>(RamBytes + 4096, pinned: true);
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(Ram, 0);
        _origin = (int)((4096 - (start & 4095)) & 4095);
        RamHost = start + _origin;
        GuestMemoryRegion[] regions =
        [
            new(RegionAGpa, RegionASize, RegionAUser, RamHost, RamHost, RegionASize),
            new(RegionBGpa, RegionBSize, RegionBUser, RamHost + HostOffsetB, RamHost + HostOffsetB, RegionBSize),
            new(RegionCGpa, RegionCSize, RegionCUser, RamHost + HostOffsetC, RamHost + HostOffsetC, RegionCSize),
        ];
        Assert.True(GuestMemory.TryCreate(regions, out GuestMemory? memory, out string? error), error);
        Memory = memory!;
        if (log)
        {
            LogBitmap = GC.AllocateArray<byte>(LogBytes, pinned: true);
            Log = new DirtyLog(Marshal.UnsafeAddrOfPinnedArrayElement(LogBitmap, 0), LogBytes);
        }

        if (call)
        {
            Call = new EventFd();
        }

        for (int i = size - 1; i >= 0; i--)
        {
            _free.Push((ushort)i);
        }

        AvailIdx = (ushort)baseIndex;
        LastUsed = (ushort)baseIndex;
        WriteU16(AvailGpa + 2, AvailIdx);
        WriteU16(UsedGpa + 2, LastUsed);
        Pool = Mempool.CreatePacketPool($"split-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}", poolSize, cacheSize: 0);
        BaseIndex = baseIndex;
    }

    public int Size { get; }

    public ulong Features { get; }

    public uint BaseIndex { get; }

    public byte[] Ram { get; }

    public nint RamHost { get; }

    public GuestMemory Memory { get; }

    public DirtyLog? Log { get; }

    public byte[]? LogBitmap { get; }

    public EventFd? Call { get; }

    public Mempool Pool { get; }

    /// <summary>Bytes past a 64-byte boundary at which each posted buffer starts (0: on the boundary).</summary>
    public int BufferOffset { get; init; }

    /// <summary>The driver's avail->idx (what it last published).</summary>
    public ushort AvailIdx { get; private set; }

    /// <summary>The driver's last seen used index.</summary>
    public ushort LastUsed { get; private set; }

    public int HeaderSize => VirtioFeatures.NetHeaderSize(Features);

    public int FreeDescriptors => _free.Count;

    public static ulong UserOf(ulong gpa) => gpa - RegionAGpa + RegionAUser;

    public VirtqueueSetup Setup(int? size = null, ulong? descUser = null, ulong? availUser = null, ulong? usedUser = null, uint? baseIndex = null, ulong? features = null, bool logUsed = true) => new()
    {
        Index = 1,
        Size = size ?? Size,
        DescUserAddr = descUser ?? UserOf(DescGpa),
        AvailUserAddr = availUser ?? UserOf(AvailGpa),
        UsedUserAddr = usedUser ?? UserOf(UsedGpa),
        UsedLogGuestAddr = UsedGpa,
        LogUsedRing = Log is not null && logUsed,
        Base = baseIndex ?? BaseIndex,
        Features = features ?? Features,
        Memory = Memory,
        Log = Log,
        Call = Call,
    };

    public SplitVhostQueue CreateQueue()
    {
        Assert.True(SplitVhostQueue.TryCreate(Setup(), out SplitVhostQueue? queue, out string? error), error);
        return queue!;
    }

    // ---- raw guest memory ----

    public Span<byte> At(ulong gpa, int length)
    {
        if (gpa >= RegionAGpa && gpa + (ulong)length <= RegionAGpa + RegionASize)
        {
            return Ram.AsSpan(_origin + (int)(gpa - RegionAGpa), length);
        }

        if (gpa >= RegionCGpa && gpa + (ulong)length <= RegionCGpa + RegionCSize)
        {
            return Ram.AsSpan(_origin + HostOffsetC + (int)(gpa - RegionCGpa), length);
        }

        if (gpa >= RegionBGpa && gpa + (ulong)length <= RegionBGpa + RegionBSize)
        {
            return Ram.AsSpan(_origin + HostOffsetB + (int)(gpa - RegionBGpa), length);
        }

        throw new ArgumentOutOfRangeException(nameof(gpa), $"gpa 0x{gpa:X} +{length} is not in the test's RAM");
    }

    public ushort ReadU16(ulong gpa) => BinaryPrimitives.ReadUInt16LittleEndian(At(gpa, 2));

    public void WriteU16(ulong gpa, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(At(gpa, 2), value);

    public void WriteDesc(int index, ulong addr, uint len, VirtqDescFlags flags, ushort next = 0) =>
        WriteDescAt(DescGpa + ((ulong)index * 16), addr, len, flags, next);

    public void WriteDescAt(ulong gpa, ulong addr, uint len, VirtqDescFlags flags, ushort next = 0)
    {
        Span<byte> d = At(gpa, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, addr);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], len);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Bump-allocates guest buffer space (64-byte aligned, wrapping round the buffer area).</summary>
    public ulong AllocBuffer(int length, int alignment = 64)
    {
        ulong start = (_bufferCursor + (ulong)alignment - 1) & ~((ulong)alignment - 1);
        if (start + (ulong)length > BufferAreaEnd)
        {
            start = BufferAreaGpa;
        }

        _bufferCursor = start + (ulong)length;
        return start;
    }

    public ushort AllocDesc()
    {
        Assert.True(_free.Count > 0, "the test ran out of descriptors");
        return _free.Pop();
    }

    /// <summary>Puts <paramref name="head"/> into avail->ring and publishes avail->idx (as a driver would, after the descriptors).</summary>
    public void PushAvail(ushort head)
    {
        WriteU16(AvailGpa + 4 + (2UL * (AvailIdx & (uint)(Size - 1))), head);
        AvailIdx++;
        WriteU16(AvailGpa + 2, AvailIdx);
    }

    /// <summary>Writes avail->idx directly (hostile jumps).</summary>
    public void SetAvailIdx(ushort idx)
    {
        AvailIdx = idx;
        WriteU16(AvailGpa + 2, idx);
    }

    public ushort AvailFlags
    {
        get => ReadU16(AvailGpa);
        set => WriteU16(AvailGpa, value);
    }

    public ushort UsedEvent
    {
        get => ReadU16(AvailGpa + 4 + (2UL * (ulong)Size));
        set => WriteU16(AvailGpa + 4 + (2UL * (ulong)Size), value);
    }

    public ushort UsedFlags => ReadU16(UsedGpa);

    public ushort UsedIdx => ReadU16(UsedGpa + 2);

    public (uint Id, uint Len) UsedElem(ushort index)
    {
        Span<byte> e = At(UsedGpa + 4 + (8UL * (index & (uint)(Size - 1))), 8);
        return (BinaryPrimitives.ReadUInt32LittleEndian(e), BinaryPrimitives.ReadUInt32LittleEndian(e[4..]));
    }

    /// <summary>Takes the used elements published since the last call and frees their chains' descriptors.</summary>
    public List<(uint Id, uint Len)> PopUsed()
    {
        var list = new List<(uint, uint)>();
        ushort idx = UsedIdx;
        while (LastUsed != idx)
        {
            (uint id, uint len) = UsedElem(LastUsed);
            list.Add((id, len));
            LastUsed++;
            if (id < Size && _chains.Remove((ushort)id, out Chain? chain))
            {
                foreach (ushort d in chain.Descriptors)
                {
                    _free.Push(d);
                }
            }
        }

        return list;
    }

    /// <summary>Reads and resets the call eventfd: how many interrupts since the last look.</summary>
    public ulong TakeInterrupts()
    {
        Assert.NotNull(Call);
        SysResult r = Call.TryRead(out ulong value);
        return r.IsSuccess ? value : 0;
    }

    // ---- a well-behaved driver ----

    /// <summary>Posts a transmit chain holding <paramref name="bytes"/> (header + frame) cut into pieces of <paramref name="pieces"/> bytes (the last piece takes the rest).</summary>
    public ushort PostTx(ReadOnlySpan<byte> bytes, params int[] pieces) => Post(bytes, pieces, writable: false, indirect: false);

    /// <summary>Like <see cref="PostTx"/> through one indirect descriptor.</summary>
    public ushort PostTxIndirect(ReadOnlySpan<byte> bytes, params int[] pieces) => Post(bytes, pieces, writable: false, indirect: true);

    /// <summary>Posts a receive chain of device-writable buffers of <paramref name="sizes"/> bytes.</summary>
    public ushort PostRx(params int[] sizes) => Post(new byte[sizes.Sum()], sizes, writable: true, indirect: false);

    /// <summary>Like <see cref="PostRx"/> through one indirect descriptor.</summary>
    public ushort PostRxIndirect(params int[] sizes) => Post(new byte[sizes.Sum()], sizes, writable: true, indirect: true);

    /// <summary>The buffers (gpa, length) of a chain the driver posted, in chain order.</summary>
    public IReadOnlyList<(ulong Gpa, int Len)> Buffers(ushort head) => _chains[head].Buffers;

    /// <summary>The first <paramref name="length"/> bytes the device wrote into the chain at <paramref name="head"/>.</summary>
    public byte[] ReadChain(ushort head, int length)
    {
        var bytes = new byte[length];
        int done = 0;
        foreach ((ulong gpa, int len) in _chains[head].Buffers)
        {
            int n = Math.Min(len, length - done);
            At(gpa, n).CopyTo(bytes.AsSpan(done));
            done += n;
            if (done == length)
            {
                break;
            }
        }

        Assert.Equal(length, done);
        return bytes;
    }

    /// <summary>Records a chain the test built by hand, so <see cref="PopUsed"/> frees its descriptors.</summary>
    public void Track(ushort head, ushort[] descriptors, params (ulong Gpa, int Len)[] buffers) => _chains[head] = new Chain(descriptors, buffers);

    public void Dispose()
    {
        Call?.Dispose();
        Pool.Dispose();
    }

    private ushort Post(ReadOnlySpan<byte> bytes, int[] pieces, bool writable, bool indirect)
    {
        var lengths = new int[pieces.Length];
        int rest = bytes.Length;
        for (int i = 0; i < pieces.Length; i++)
        {
            lengths[i] = i == pieces.Length - 1 ? rest : Math.Min(pieces[i], rest);
            rest -= lengths[i];
        }

        var buffers = new (ulong, int)[lengths.Length];
        int offset = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            ulong gpa = AllocBuffer(Math.Max(lengths[i], 1) + BufferOffset) + (ulong)BufferOffset;
            bytes.Slice(offset, lengths[i]).CopyTo(At(gpa, lengths[i]));
            buffers[i] = (gpa, lengths[i]);
            offset += lengths[i];
        }

        VirtqDescFlags direction = writable ? VirtqDescFlags.Write : VirtqDescFlags.None;
        ushort head;
        ushort[] used;
        if (indirect)
        {
            ulong table = AllocBuffer(16 * lengths.Length, 16);
            for (int i = 0; i < lengths.Length; i++)
            {
                bool last = i == lengths.Length - 1;
                WriteDescAt(table + (16UL * (ulong)i), buffers[i].Item1, (uint)lengths[i], direction | (last ? VirtqDescFlags.None : VirtqDescFlags.Next), (ushort)(last ? 0 : i + 1));
            }

            head = AllocDesc();
            WriteDesc(head, table, (uint)(16 * lengths.Length), VirtqDescFlags.Indirect);
            used = [head];
        }
        else
        {
            used = new ushort[lengths.Length];
            for (int i = 0; i < used.Length; i++)
            {
                used[i] = AllocDesc();
            }

            for (int i = 0; i < used.Length; i++)
            {
                bool last = i == used.Length - 1;
                WriteDesc(used[i], buffers[i].Item1, (uint)lengths[i], direction | (last ? VirtqDescFlags.None : VirtqDescFlags.Next), last ? (ushort)0 : used[i + 1]);
            }

            head = used[0];
        }

        _chains[head] = new Chain(used, buffers);
        PushAvail(head);
        return head;
    }

    private sealed record Chain(ushort[] Descriptors, (ulong Gpa, int Len)[] Buffers);
}
