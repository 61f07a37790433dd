using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The driver side of a packed virtqueue (virtio 1.2 §2.8; DPDK drivers/net/virtio packed paths for virtio_user):
/// a descriptor ring and two event suppression areas in a <see cref="DriverRingArea"/>, buffers in mempool regions,
/// all in the <see cref="FrontendMemoryTable"/> the backend maps.
/// </summary>
/// <remarks>
/// <para>
/// Buffer IDs come from a private free list; which mbuf an ID stands for, how many descriptors its buffer took, how
/// long a posted receive buffer is and which ID was made available at which slot are kept in private arrays, never
/// read back from the ring the backend also writes. A used descriptor is recognised by its flags (AVAIL = USED = the
/// driver's used wrap counter, one acquire load); its ID and length are then read with one load and checked: ID below
/// the ring size and in flight, length within the posted buffer (receive), num_buffers between 1 and what is in
/// flight (merged receive). A bad descriptor is counted and skipped by recovering the buffer it should have been:
/// the one whose ID names a buffer in flight, else the one the driver made available at that slot. When neither can
/// be told the queue breaks until <see cref="Reset"/> (its buffers are freed then).
/// </para>
/// <para>
/// VIRTIO_F_IN_ORDER (§2.8.9 "In-order use of descriptors"): a transmit queue accepts one used descriptor for a batch
/// (the ID of the batch's last buffer, at the slot of its first) and completes every buffer made available before
/// it, as DPDK's vhost writes them. Receive descriptors are always checked one by one.
/// </para>
/// <para>
/// Poll mode: the driver event suppression area says RING_EVENT_FLAGS_DISABLE; after making buffers available the
/// driver kicks unless the device event suppression area says DISABLE (read once per burst after a full fence,
/// §2.8.21.3). VIRTIO_F_EVENT_IDX is never negotiated, so RING_EVENT_FLAGS_DESC is treated as ENABLE.
/// </para>
/// </remarks>
public sealed class PackedDriverQueue : DriverQueue
{
    /// <summary>SET_VRING_BASE num for a fresh packed ring: avail index 0 with wrap counter 1 (bit 15), used index 0 with wrap counter 1 (bit 31).</summary>
    public const uint FreshBase = 0x8000_8000;

    private const ushort AvailBit = (ushort)VirtqDescFlags.Avail;
    private const ushort UsedBit = (ushort)VirtqDescFlags.Used;

    private readonly PackedDriverRing _ring;
    private readonly FrontendMemoryTable _memory;
    private readonly Mempool? _pool;
    private readonly nint _ringAddress;
    private readonly nint _driverEventAddress;
    private readonly nint _deviceEventAddress;
    private readonly ulong _zeroHeader;
    private readonly int _size;
    private readonly ushort _port;
    private readonly bool _mergeable;
    private readonly bool _fifoCompletion; // in-order transmit: batches complete everything before them

    private readonly Mbuf[] _cookie;        // per ID: the packet (transmit) or the posted mbuf (receive)
    private readonly Mbuf[] _fresh = new Mbuf[BatchSize]; // refill's bulk allocation (a field, not stackalloc: the method stays eligible for tiering)
    private readonly ushort[] _descCount;   // per ID: descriptors of the buffer in flight; 0 = not in flight
    private readonly uint[] _bufferLength;  // per ID (receive): device-writable bytes posted
    private readonly ushort[] _headSlot;    // per ID: the slot of the buffer's first descriptor
    private readonly int[] _slotOwner;      // per slot: the ID whose first descriptor was made available there, or -1
    private readonly ushort[] _freeIds;
    private readonly ushort[] _fifo;        // IDs in the order they were made available (in-order transmit only)

    private int _freeIdCount;
    private int _fifoHead;
    private int _fifoCount;
    private ushort _availSlot;
    private bool _availWrap;
    private ushort _usedSlot;
    private bool _usedWrap;
    private int _freeSlots;
    private int _inFlight;

    /// <summary>
    /// Lays out a packed ring of <paramref name="setup"/>.Size descriptors in <paramref name="area"/>. The queue
    /// starts stopped and reset; a receive queue posts nothing until <see cref="Fill"/> or a burst.
    /// </summary>
    /// <exception cref="ArgumentException">The size is not 1 to 32768, VERSION_1 or RING_PACKED is missing from the features, a region is not in the table, or the receive pool is missing or too small.</exception>
    public PackedDriverQueue(DriverRingArea area, FrontendMemoryTable memory, DriverQueueSetup setup)
        : base(setup ?? throw new ArgumentNullException(nameof(setup)))
    {
        ArgumentNullException.ThrowIfNull(area);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(setup);
        if (!PackedVirtqueueLayout.IsValidQueueSize((uint)Math.Max(setup.Size, 0)))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a packed ring's size is 1 to 32768, not {setup.Size}"), nameof(setup));
        }

        if (!VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingPacked))
        {
            throw new ArgumentException("VIRTIO_F_RING_PACKED is not negotiated: use a SplitDriverQueue", nameof(setup));
        }

        _pool = DriverQueueChecks.Validate(area, memory, setup);
        _memory = memory;
        _size = setup.Size;
        _port = setup.Port;
        _mergeable = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.NetMrgRxbuf);
        _fifoCompletion = Role == DriverQueueRole.Transmit && VirtioFeatures.IsSet(setup.Features, VirtioFeatures.InOrder);

        _ringAddress = area.Reserve((long)PackedVirtqueueLayout.DescRingSize((uint)_size), 4096);
        _driverEventAddress = area.Reserve(VirtqPackedEventSuppress.Size, 64);
        _deviceEventAddress = area.Reserve(VirtqPackedEventSuppress.Size, 64);
        _zeroHeader = (ulong)area.Reserve(DriverPackets.HeaderSize, 64);
        SharedBytes.Clear((nint)_zeroHeader, DriverPackets.HeaderSize);
        _ring = new PackedDriverRing(_ringAddress, _driverEventAddress, _deviceEventAddress, (uint)_size);

        _cookie = new Mbuf[_size];
        _descCount = new ushort[_size];
        _bufferLength = new uint[_size];
        _headSlot = new ushort[_size];
        _slotOwner = new int[_size];
        _freeIds = new ushort[_size];
        _fifo = new ushort[_size];
        RingAddress = new VhostVringAddr((uint)setup.VringIndex, 0, (ulong)_ringAddress, (ulong)_deviceEventAddress, (ulong)_driverEventAddress, 0);

        KickFd = new EventFd();
        try
        {
            CallFd = new EventFd();
        }
        catch
        {
            KickFd.Dispose();
            throw;
        }

        ResetCore();
        Stats.Resets = 0;
    }

    /// <inheritdoc/>
    public override int Size => _size;

    /// <inheritdoc/>
    public override bool IsPacked => true;

    /// <inheritdoc/>
    public override uint InitialBase => FreshBase;

    /// <inheritdoc/>
    public override int InFlight => _inFlight;

    /// <summary>Bytes of ring area one queue of <paramref name="size"/> descriptors takes, alignment included.</summary>
    public static long RingAreaBytes(int size)
    {
        long offset = (long)PackedVirtqueueLayout.DescRingSize((uint)size);
        offset = DriverRingArea.AlignUp(offset, 64) + VirtqPackedEventSuppress.Size;
        offset = DriverRingArea.AlignUp(offset, 64) + VirtqPackedEventSuppress.Size;
        offset = DriverRingArea.AlignUp(offset, 64) + DriverPackets.HeaderSize;
        return DriverRingArea.AlignUp(offset, 4096);
    }

    /// <inheritdoc/>
    private protected override string Kind => "packed";

    /// <inheritdoc/>
    private protected override int FreeSlots => _freeSlots;

    /// <inheritdoc/>
    private protected override int TransmitBurst(ReadOnlySpan<Mbuf> packets, ref MbufFreeBatch done)
    {
        ReclaimTransmitted(ref done);
        return Broken ? 0 : TransmitCore(packets, ref done);
    }

    private static ushort AvailFlags(bool wrap) => wrap ? AvailBit : UsedBit;

    private static bool IsUsed(ushort flags, bool wrap)
    {
        bool avail = (flags & AvailBit) != 0;
        bool used = (flags & UsedBit) != 0;
        return avail == used && used == wrap;
    }

    private int TransmitCore(ReadOnlySpan<Mbuf> packets, ref MbufFreeBatch done)
    {
        int taken = 0;
        bool posted = false;
        for (; taken < packets.Length; taken++)
        {
            Mbuf packet = packets[taken];
            if (packet.IsNull)
            {
                break;
            }

            DriverQueueFault fault = DriverPackets.PlanTx(packet, _memory, _size, out int descriptors, out bool push);
            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, taken);
                Stats.Dropped++;
                done.Add(packet);
                continue;
            }

            if (descriptors > _freeSlots)
            {
                break;
            }

            PostTransmit(packet, descriptors, push);
            posted = true;
        }

        if (posted)
        {
            Kick();
        }

        return taken;
    }

    private void PostTransmit(Mbuf packet, int descriptors, bool push)
    {
        Stats.Packets++;
        Stats.Bytes += packet.PacketLength;
        if (push)
        {
            DriverPackets.PushHeader(packet, checkFirst: false);
        }

        ushort id = _freeIds[--_freeIdCount];
        ushort headSlot = _availSlot;
        ushort headFlags = 0;
        int written = 0;
        if (!push)
        {
            WriteChainDesc(id, _zeroHeader, DriverPackets.HeaderSize, descriptors, ref written, ref headFlags);
        }

        for (Mbuf m = packet; !m.IsNull && written < descriptors; m = m.Next)
        {
            if (DriverPackets.TakesDescriptor(packet, m, push))
            {
                WriteChainDesc(id, (ulong)(m.BufferAddress + m.DataOffset), m.DataLength, descriptors, ref written, ref headFlags);
            }
        }

        _ring.PublishFlags(headSlot, headFlags);
        Track(id, packet, headSlot, (ushort)descriptors, 0);
        if (_fifoCompletion)
        {
            _fifo[(_fifoHead + _fifoCount) % _size] = id;
            _fifoCount++;
        }
    }

    /// <summary>Writes descriptor <paramref name="written"/> of a chain at the next slot; the head's flags are kept for the final release store.</summary>
    private void WriteChainDesc(ushort id, ulong addr, uint len, int descriptors, ref int written, ref ushort headFlags)
    {
        ushort slot = _availSlot;
        ushort flags = (ushort)(AvailFlags(_availWrap) | (written < descriptors - 1 ? (ushort)VirtqDescFlags.Next : 0));
        _ring.WriteBody(slot, addr, len, id);
        if (written == 0)
        {
            headFlags = flags;
        }
        else
        {
            _ring.WriteFlags(slot, flags);
        }

        AdvanceAvail();
        written++;
    }

    private void ReclaimTransmitted(ref MbufFreeBatch done)
    {
        while (_inFlight > 0)
        {
            if (!IsUsed(_ring.ReadFlags(_usedSlot), _usedWrap))
            {
                return;
            }

            uint id = (uint)(_ring.ReadLenId(_usedSlot) >> 32) & 0xFFFF;
            if (_fifoCompletion)
            {
                int k = FindInFifo(id);
                if (k < 0)
                {
                    Stats.Fault(id >= _size ? DriverQueueFault.UsedIdOutOfRange : DriverQueueFault.UsedIdNotInFlight, id);
                    if (!RecoverAtUsedSlot(ref done))
                    {
                        return;
                    }

                    continue;
                }

                for (int j = 0; j <= k; j++)
                {
                    Complete(_fifo[_fifoHead], ref done);
                }

                continue;
            }

            if (id >= _size || _descCount[id] == 0)
            {
                Stats.Fault(id >= _size ? DriverQueueFault.UsedIdOutOfRange : DriverQueueFault.UsedIdNotInFlight, id);
                if (!RecoverAtUsedSlot(ref done))
                {
                    return;
                }

                continue;
            }

            Complete((ushort)id, ref done);
        }
    }

    private protected override int Harvest(Span<Mbuf> packets, ref MbufFreeBatch done)
    {
        int n = 0;
        while (n < packets.Length && _inFlight > 0)
        {
            if (!IsUsed(_ring.ReadFlags(_usedSlot), _usedWrap))
            {
                break;
            }

            ulong lenId = _ring.ReadLenId(_usedSlot);
            uint id = (uint)(lenId >> 32) & 0xFFFF;
            uint len = (uint)lenId;
            DriverQueueFault fault = CheckReceived(id, len, first: true);
            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, fault == DriverQueueFault.UsedLengthTooLong || fault == DriverQueueFault.UsedLengthTooShort ? len : id);
                Stats.Dropped++;
                if (!SkipUsed(id, ref done))
                {
                    break;
                }

                continue;
            }

            ushort buffers = _mergeable ? DriverPackets.ReadNumBuffers(_cookie[id]) : (ushort)1;
            if (buffers == 0 || buffers > Mbuf.MaxSegments || buffers > _inFlight)
            {
                Stats.Fault(DriverQueueFault.NumBuffersInvalid, buffers);
                Stats.Dropped++;
                Complete((ushort)id, ref done);
                continue;
            }

            if (buffers > 1 && !ArePublished(buffers))
            {
                break; // the rest of this packet is not used yet
            }

            Mbuf head = Take((ushort)id);
            DriverPackets.FinishRxHead(head, len, _port);
            if (buffers > 1 && !AssembleMerged(head, buffers, ref done))
            {
                continue;
            }

            Stats.Packets++;
            Stats.Bytes += head.PacketLength;
            packets[n++] = head;
        }

        return n;
    }

    /// <summary>Whether the <paramref name="count"/> one-descriptor receive buffers from the used slot on are all marked used.</summary>
    private bool ArePublished(int count)
    {
        int slot = _usedSlot;
        bool wrap = _usedWrap;
        for (int k = 1; k < count; k++)
        {
            if (++slot == _size)
            {
                slot = 0;
                wrap = !wrap;
            }

            if (!IsUsed(_ring.ReadFlags((ushort)slot), wrap))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Chains buffers 1..count-1 of a merged packet to <paramref name="head"/>; on a bad descriptor frees the packet and skips the rest.</summary>
    private bool AssembleMerged(Mbuf head, ushort count, ref MbufFreeBatch done)
    {
        uint total = head.DataLength;
        ref MbufHeader last = ref head.Header;
        for (int k = 1; k < count; k++)
        {
            DriverQueueFault fault;
            uint id = 0;
            uint len = 0;
            if (_inFlight == 0 || !IsUsed(_ring.ReadFlags(_usedSlot), _usedWrap))
            {
                fault = DriverQueueFault.NumBuffersInvalid; // changed since it was seen used
            }
            else
            {
                ulong lenId = _ring.ReadLenId(_usedSlot);
                id = (uint)(lenId >> 32) & 0xFFFF;
                len = (uint)lenId;
                fault = CheckReceived(id, len, first: false);
                if (fault == DriverQueueFault.None && total + len > Mbuf.MaxPacketLength)
                {
                    fault = DriverQueueFault.PacketTooLong;
                }
            }

            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, fault == DriverQueueFault.PacketTooLong ? total + len : id);
                Stats.Dropped++;
                head.Header.NbSegs = (ushort)k;
                done.Add(head);
                for (int j = k; j < count && _inFlight > 0 && IsUsed(_ring.ReadFlags(_usedSlot), _usedWrap); j++)
                {
                    if (!SkipUsed((uint)(_ring.ReadLenId(_usedSlot) >> 32) & 0xFFFF, ref done))
                    {
                        break;
                    }
                }

                return false;
            }

            Mbuf segment = Take((ushort)id);
            DriverPackets.FinishRxSegment(segment, len);
            last.Next = segment.Pointer;
            last = ref segment.Header;
            total += len;
        }

        head.Header.NbSegs = count;
        head.PacketLength = total;
        return true;
    }

    private DriverQueueFault CheckReceived(uint id, uint len, bool first)
    {
        if (id >= _size)
        {
            return DriverQueueFault.UsedIdOutOfRange;
        }

        if (_descCount[id] == 0)
        {
            return DriverQueueFault.UsedIdNotInFlight;
        }

        if (len > _bufferLength[id])
        {
            return DriverQueueFault.UsedLengthTooLong;
        }

        return first && len < DriverPackets.MinRxLength ? DriverQueueFault.UsedLengthTooShort : DriverQueueFault.None;
    }

    /// <summary>Consumes a bad used descriptor: recovers the buffer its ID names if in flight, else the one made available at the slot. False when the queue broke.</summary>
    private bool SkipUsed(uint id, ref MbufFreeBatch done)
    {
        if (id < _size && _descCount[id] != 0)
        {
            Complete((ushort)id, ref done);
            return true;
        }

        return RecoverAtUsedSlot(ref done);
    }

    /// <summary>
    /// A used descriptor whose ID cannot be trusted: recovers the buffer the driver made available at the used slot
    /// (in order: only if it is the oldest). When there is none the ring cannot be followed any more: the queue breaks.
    /// </summary>
    private bool RecoverAtUsedSlot(ref MbufFreeBatch done)
    {
        int owner = _slotOwner[_usedSlot];
        bool recoverable = owner >= 0 && _descCount[owner] != 0 && (!_fifoCompletion || (_fifoCount > 0 && _fifo[_fifoHead] == owner));
        if (!recoverable)
        {
            Stats.Fault(DriverQueueFault.UsedWithoutBuffer, _usedSlot);
            Stats.Broken++;
            Broken = true;
            return false;
        }

        Complete((ushort)owner, ref done);
        return true;
    }

    /// <summary>In-order transmit: the position of <paramref name="id"/> among the buffers in flight, oldest first; -1 if absent.</summary>
    private int FindInFifo(uint id)
    {
        if (id >= _size || _descCount[id] == 0)
        {
            return -1;
        }

        for (int j = 0; j < _fifoCount; j++)
        {
            if (_fifo[(_fifoHead + j) % _size] == id)
            {
                return j;
            }
        }

        return -1;
    }

    /// <summary>Completes buffer <paramref name="id"/> (it was used): frees its mbuf, moves the used slot past its descriptors.</summary>
    private void Complete(ushort id, ref MbufFreeBatch done)
    {
        done.Add(_cookie[id]);
        Take(id);
    }

    /// <summary>Takes the mbuf of used buffer <paramref name="id"/>, moves the used slot past its descriptors and frees the ID.</summary>
    private Mbuf Take(ushort id)
    {
        Mbuf m = _cookie[id];
        int count = _descCount[id];
        int slot = _usedSlot + count;
        if (slot >= _size)
        {
            slot -= _size;
            _usedWrap = !_usedWrap;
        }

        _usedSlot = (ushort)slot;
        Untrack(id);
        return m;
    }

    private protected override int Refill()
    {
        Mempool pool = _pool!;
        Span<Mbuf> fresh = _fresh;
        int posted = 0;
        while (_freeSlots > 0)
        {
            int chunk = Math.Min(_freeSlots, BatchSize);
            if (pool.AllocBulk(fresh[..chunk]) == 0)
            {
                chunk = 1;
                if (pool.AllocBulk(fresh[..1]) == 0)
                {
                    Stats.RxNoMbuf++;
                    break;
                }
            }

            for (int i = 0; i < chunk; i++)
            {
                Mbuf m = fresh[i];
                ushort id = _freeIds[--_freeIdCount];
                ushort slot = _availSlot;
                uint len = DriverPackets.RxBufferLength(m);
                _ring.WriteBody(slot, DriverPackets.RxBufferAddress(m), len, id);
                ushort flags = (ushort)(AvailFlags(_availWrap) | (ushort)VirtqDescFlags.Write);
                AdvanceAvail();
                _ring.PublishFlags(slot, flags);
                Track(id, m, slot, 1, len);
            }

            posted += chunk;
        }

        if (posted > 0)
        {
            Kick();
        }

        return posted;
    }

    private void Track(ushort id, Mbuf m, ushort headSlot, ushort descriptors, uint bufferLength)
    {
        _cookie[id] = m;
        _descCount[id] = descriptors;
        _bufferLength[id] = bufferLength;
        _headSlot[id] = headSlot;
        _slotOwner[headSlot] = id;
        _freeSlots -= descriptors;
        _inFlight++;
    }

    private void Untrack(ushort id)
    {
        if (_fifoCompletion && _fifoCount > 0 && _fifo[_fifoHead] == id)
        {
            _fifoHead = (_fifoHead + 1) % _size;
            _fifoCount--;
        }

        if (_slotOwner[_headSlot[id]] == id)
        {
            _slotOwner[_headSlot[id]] = -1;
        }

        _freeSlots += _descCount[id];
        _descCount[id] = 0;
        _cookie[id] = default;
        _freeIds[_freeIdCount++] = id;
        _inFlight--;
    }

    private void AdvanceAvail()
    {
        if (++_availSlot == _size)
        {
            _availSlot = 0;
            _availWrap = !_availWrap;
        }
    }

    private void Kick()
    {
        Interlocked.MemoryBarrier(); // the descriptors' flags must be visible before the device event area is read (§2.8.21.3)
        if (_ring.ReadDeviceEventFlags() != PackedEventFlags.Disable)
        {
            _ = KickFd.Signal();
            Stats.Kicks++;
        }
        else
        {
            Stats.KicksSuppressed++;
        }
    }

    private protected override void FreeInFlight()
    {
        var done = new MbufFreeBatch(stackalloc Mbuf[BatchSize]);
        for (int i = 0; i < _descCount.Length; i++)
        {
            if (_descCount[i] != 0)
            {
                if (Role == DriverQueueRole.Transmit)
                {
                    Stats.Dropped++;
                }

                done.Add(_cookie[i]);
                _descCount[i] = 0;
                _cookie[i] = default;
            }
        }

        done.Flush();
    }

    private protected override void ResetCore()
    {
        FreeInFlight();
        SharedBytes.Clear(_ringAddress, (long)PackedVirtqueueLayout.DescRingSize((uint)_size));
        SharedBytes.Clear(_driverEventAddress, VirtqPackedEventSuppress.Size);
        SharedBytes.Clear(_deviceEventAddress, VirtqPackedEventSuppress.Size);
        _ring.WriteDriverEvent(PackedEventFlags.Disable);
        for (int i = 0; i < _size; i++)
        {
            _freeIds[i] = (ushort)(_size - 1 - i);
            _slotOwner[i] = -1;
        }

        _freeIdCount = _size;
        _fifoHead = 0;
        _fifoCount = 0;
        _availSlot = 0;
        _availWrap = true;
        _usedSlot = 0;
        _usedWrap = true;
        _freeSlots = _size;
        _inFlight = 0;
        Broken = false;
        Stats.Resets++;
    }
}
