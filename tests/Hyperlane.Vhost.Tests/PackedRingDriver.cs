using System.Runtime.InteropServices;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The driver side of a packed virtqueue, written from virtio 1.2 §2.8.21/§2.8.22 (the spec's own example): it
/// keeps the driver and used wrap counters (both start at 1), makes chains available writing the head's flags last
/// (after a release), hands out buffer ids, puts indirect tables in guest memory, and takes used descriptors back,
/// skipping as many ring slots as the chain had. Hostile chains (bad ids, odd flags) can be posted raw. A used id
/// is matched to the first chain in flight with that id (the device may report chains out of posting order, e.g.
/// a receive packet's chains before a malformed chain met among them). It also reads and writes the two event
/// suppression areas.
/// </summary>
internal sealed class PackedRingDriver
{
    private const ushort Avail = (ushort)VirtqDescFlags.Avail;
    private const ushort Used = (ushort)VirtqDescFlags.Used;

    private readonly PackedTestGuest _guest;
    private readonly Stack<ushort> _freeIds = new();
    private readonly List<(ushort Id, int Descriptors, bool OwnsId, PackedTestElement[] Elements)> _inFlight = new();
    private int _nextAvail;
    private bool _availWrap;
    private int _nextUsed;
    private bool _usedWrap;

    public PackedRingDriver(PackedTestGuest guest, int size, int startIndex = 0, bool startWrap = true)
    {
        _guest = guest;
        Size = size;
        RingGpa = guest.Alloc((long)size * VirtqPackedDesc.Size, 16);
        DriverEventGpa = guest.Alloc(4, 4);
        DeviceEventGpa = guest.Alloc(4, 4);
        _nextAvail = startIndex;
        _availWrap = startWrap;
        _nextUsed = startIndex;
        _usedWrap = startWrap;
        for (int id = size - 1; id >= 0; id--)
        {
            _freeIds.Push((ushort)id);
        }
    }

    public int Size { get; }

    public ulong RingGpa { get; }

    public ulong DriverEventGpa { get; }

    public ulong DeviceEventGpa { get; }

    /// <summary>Ring slots made available and not yet used.</summary>
    public int InFlightDescriptors { get; private set; }

    public int FreeDescriptors => Size - InFlightDescriptors;

    /// <summary>Chains made available and not yet used.</summary>
    public int InFlightChains => _inFlight.Count;

    /// <summary>The driver's next avail index with its wrap counter in bit 15 (what GET_VRING_BASE should report once the device has caught up).</summary>
    public uint AvailBase => (uint)_nextAvail | (_availWrap ? 0x8000u : 0);

    public int NextAvail => _nextAvail;

    public bool AvailWrap => _availWrap;

    /// <summary>Makes a chain of direct descriptors available (NEXT on all but the last, the id on all); returns its id.</summary>
    public ushort Post(params PackedTestElement[] elements)
    {
        ushort id = _freeIds.Pop();
        var descs = new VirtqPackedDesc[elements.Length];
        for (int i = 0; i < elements.Length; i++)
        {
            var flags = elements[i].Write ? VirtqDescFlags.Write : VirtqDescFlags.None;
            if (i < elements.Length - 1)
            {
                flags |= VirtqDescFlags.Next;
            }

            descs[i] = new VirtqPackedDesc(elements[i].Gpa, elements[i].Len, id, flags);
        }

        PostRaw(descs, id, ownsId: true, elements);
        return id;
    }

    /// <summary>Makes one INDIRECT descriptor available, its table (written at <paramref name="tableGpa"/>) holding <paramref name="elements"/>.</summary>
    public ushort PostIndirect(ulong tableGpa, params PackedTestElement[] elements)
    {
        var table = new VirtqPackedDesc[elements.Length];
        for (int i = 0; i < elements.Length; i++)
        {
            table[i] = new VirtqPackedDesc(elements[i].Gpa, elements[i].Len, 0, elements[i].Write ? VirtqDescFlags.Write : VirtqDescFlags.None);
        }

        WriteTable(tableGpa, table);
        ushort id = _freeIds.Pop();
        PostRaw([new VirtqPackedDesc(tableGpa, (uint)(table.Length * VirtqPackedDesc.Size), id, VirtqDescFlags.Indirect)], id, ownsId: true, elements);
        return id;
    }

    public void WriteTable(ulong tableGpa, ReadOnlySpan<VirtqPackedDesc> table) =>
        _guest.Write(tableGpa, MemoryMarshal.AsBytes(table));

    /// <summary>
    /// Writes <paramref name="descs"/> at the next ring slots exactly as given (id, len, NEXT/WRITE/INDIRECT), adding the
    /// AVAIL/USED bits of each slot's wrap counter, the first slot's flags last. The device is expected to use them as
    /// one chain with <paramref name="expectedId"/>.
    /// </summary>
    public void PostRaw(ReadOnlySpan<VirtqPackedDesc> descs, ushort expectedId, bool ownsId = false, PackedTestElement[]? elements = null)
    {
        Assert.True(descs.Length <= FreeDescriptors, "the ring has no room for the chain");
        int first = _nextAvail;
        ushort firstFlags = 0;
        for (int i = 0; i < descs.Length; i++)
        {
            ushort flags = (ushort)(descs[i].Flags & ~(Avail | Used));
            flags |= _availWrap ? Avail : Used;
            WriteDesc(_nextAvail, descs[i].Addr, descs[i].Len, descs[i].Id);
            if (i == 0)
            {
                firstFlags = flags;
            }
            else
            {
                PublishFlags(_nextAvail, flags);
            }

            if (++_nextAvail == Size)
            {
                _nextAvail = 0;
                _availWrap = !_availWrap;
            }
        }

        PublishFlags(first, firstFlags); // release: the whole chain becomes visible at once
        InFlightDescriptors += descs.Length;
        _inFlight.Add((expectedId, descs.Length, ownsId, elements ?? []));
    }

    /// <summary>Takes the next used descriptor, if the device wrote one, and skips the ring slots of its chain.</summary>
    public bool TryTakeUsed(out PackedTestUsed used)
    {
        ushort flags = Volatile.Read(ref FlagsRef(_nextUsed));
        bool isUsed = ((flags & Used) != 0) == _usedWrap && ((flags & Avail) != 0) == _usedWrap;
        if (!isUsed)
        {
            used = default;
            return false;
        }

        Span<byte> d = Desc(_nextUsed);
        uint len = MemoryMarshal.Read<uint>(d[8..]);
        ushort id = MemoryMarshal.Read<ushort>(d[12..]);
        int match = _inFlight.FindIndex(e => e.Id == id);
        Assert.True(match >= 0, $"used id {id} was never made available");
        var expected = _inFlight[match];
        _inFlight.RemoveAt(match);
        used = new PackedTestUsed(_nextUsed, id, len, flags, expected.Descriptors, expected.Elements);
        if (expected.OwnsId)
        {
            _freeIds.Push(expected.Id);
        }

        InFlightDescriptors -= expected.Descriptors;
        _nextUsed += expected.Descriptors;
        if (_nextUsed >= Size)
        {
            _nextUsed -= Size;
            _usedWrap = !_usedWrap;
        }

        return true;
    }

    /// <summary>Takes every used descriptor there is.</summary>
    public List<PackedTestUsed> TakeAllUsed()
    {
        var list = new List<PackedTestUsed>();
        while (TryTakeUsed(out var u))
        {
            list.Add(u);
        }

        return list;
    }

    /// <summary>Writes the driver event suppression area (RING_EVENT_FLAGS_*, desc_event_off/wrap).</summary>
    public void SetDriverEvent(PackedEventFlags flags, int offset = 0, bool wrap = false)
    {
        Span<byte> area = _guest.Bytes(DriverEventGpa, 4);
        uint value = (uint)(offset | (wrap ? 0x8000 : 0)) | ((uint)flags << 16);
        Volatile.Write(ref MemoryMarshal.AsRef<uint>(area), value);
    }

    /// <summary>The device event suppression area as the device left it.</summary>
    public VirtqPackedEventSuppress ReadDeviceEvent() => MemoryMarshal.Read<VirtqPackedEventSuppress>(_guest.Bytes(DeviceEventGpa, 4));

    /// <summary>The next used position and the used wrap counter (for RING_EVENT_FLAGS_DESC).</summary>
    public (int Index, bool Wrap) NextUsed => (_nextUsed, _usedWrap);

    /// <summary>Ring slot <paramref name="index"/> as raw bytes.</summary>
    public Span<byte> Desc(int index) => _guest.Bytes(RingGpa + ((ulong)index * VirtqPackedDesc.Size), VirtqPackedDesc.Size);

    private ref ushort FlagsRef(int index) => ref MemoryMarshal.AsRef<ushort>(Desc(index)[14..]);

    private void WriteDesc(int index, ulong addr, uint len, ushort id)
    {
        Span<byte> d = Desc(index);
        MemoryMarshal.Write(d, addr);
        MemoryMarshal.Write(d[8..], len);
        MemoryMarshal.Write(d[12..], id);
    }

    private void PublishFlags(int index, ushort flags) => Volatile.Write(ref FlagsRef(index), flags);
}
