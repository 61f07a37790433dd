using System.Globalization;
using System.Runtime.Intrinsics;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// The driver side of a split virtqueue (virtio 1.2 §2.7; DPDK drivers/net/virtio virtqueue + virtio_rxtx for
/// virtio_user): descriptor table, available ring and used ring in a <see cref="DriverRingArea"/>, buffers in mempool
/// regions, all in the <see cref="FrontendMemoryTable"/> the backend maps.
/// </summary>
/// <remarks>
/// <para>
/// The driver never reads back what it wrote into shared memory: which descriptors form a chain, which mbuf a head
/// stands for, how long a posted buffer is and the order heads were made available are kept in private arrays. The
/// backend writes only the used ring; each used element is read with one load and checked: id below the ring size
/// and the head of a chain in flight, length within the posted buffer (receive), num_buffers between 1 and what is
/// outstanding (merged receive), used-&gt;idx ahead by no more than what is outstanding. A bad element is counted and
/// skipped, recovering its buffer when its id names one in flight; a used index that jumps breaks the queue until
/// <see cref="Reset"/> (its buffers are freed then), because nothing after it can be trusted.
/// </para>
/// <para>
/// VIRTIO_F_IN_ORDER (§2.7.10 "In-order use of descriptors"): a transmit queue accepts one used element for a batch
/// (the id of the batch's last buffer, used-&gt;idx advanced by the batch size) and completes every buffer made
/// available before it. Receive buffers are always checked one used element each.
/// </para>
/// <para>
/// Poll mode: avail-&gt;flags = VIRTQ_AVAIL_F_NO_INTERRUPT (VIRTIO_F_EVENT_IDX is never negotiated); after publishing
/// avail-&gt;idx the driver kicks unless used-&gt;flags has VIRTQ_USED_F_NO_NOTIFY (read once per burst after a full
/// fence, §2.7.13.4).
/// </para>
/// </remarks>
public sealed class SplitDriverQueue : DriverQueue
{

    private readonly SplitDriverRing _ring;
    private readonly FrontendMemoryTable _memory;
    private readonly Mempool? _pool;
    private readonly nint _descAddress;
    private readonly nint _availAddress;
    private readonly nint _usedAddress;
    private readonly ulong _zeroHeader;
    private readonly ushort _size;
    private readonly ushort _mask;
    private readonly ushort _port;
    private readonly bool _mergeable;
    private readonly bool _inOrder;

    private readonly Mbuf[] _cookie;          // per head: the packet (transmit) or the posted mbuf (receive)
    private readonly ushort[] _next;          // free list and chain links; our shadow of desc.next
    private readonly ushort[] _chainLength;   // per head: descriptors of the chain in flight; 0 = not in flight
    private readonly uint[] _bufferLength;    // per head (receive): device-writable bytes posted
    private readonly ushort[] _availHeads;    // [avail index mod size]: the head made available there (and our copy of avail->ring)
    private readonly Vector128<ulong>[] _descCopy; // per descriptor: our copy of what we last wrote (addr, len | flags << 32 | next << 48)
    private readonly Mbuf[] _fresh = new Mbuf[BatchSize]; // refill's bulk allocation (a field, not stackalloc: the method stays eligible for tiering)

    private ushort _freeHead;
    private ushort _freeTail;
    private int _zeroHeaderScore;             // transmit: recent pushes that found the header zero already (0..16)
    private uint _pushProbe;
    private int _freeCount;
    private ushort _availIdx;
    private ushort _lastUsed;
    private int _inFlight;

    /// <summary>
    /// Lays out a split ring of <paramref name="setup"/>.Size descriptors in <paramref name="area"/>. The queue
    /// starts stopped and reset; a receive queue posts nothing until <see cref="Fill"/> or a burst.
    /// </summary>
    /// <exception cref="ArgumentException">The size is not a power of two, VERSION_1 or the ring type does not match the features, a region is not in the table, or the receive pool is missing or too small.</exception>
    public SplitDriverQueue(DriverRingArea area, FrontendMemoryTable memory, DriverQueueSetup setup)
        : base(setup ?? throw new ArgumentNullException(nameof(setup)))
    {
        ArgumentNullException.ThrowIfNull(area);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(setup);
        if (!SplitVirtqueueLayout.IsValidQueueSize((uint)Math.Max(setup.Size, 0)))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a split ring's size is a power of two from 1 to 32768, not {setup.Size}"), nameof(setup));
        }

        if (VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingPacked))
        {
            throw new ArgumentException("VIRTIO_F_RING_PACKED is negotiated: use a PackedDriverQueue", nameof(setup));
        }

        _pool = DriverQueueChecks.Validate(area, memory, setup);
        _memory = memory;
        _size = (ushort)setup.Size;
        _mask = (ushort)(setup.Size - 1);
        _port = setup.Port;
        _mergeable = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.NetMrgRxbuf);
        _inOrder = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.InOrder);

        uint size = (uint)setup.Size;
        _descAddress = area.Reserve((long)SplitVirtqueueLayout.DescTableSize(size), 4096);
        _availAddress = area.Reserve((long)SplitVirtqueueLayout.AvailRingSize(size), 64);
        _usedAddress = area.Reserve((long)SplitVirtqueueLayout.UsedRingSize(size), 4096);
        _zeroHeader = (ulong)area.Reserve(DriverPackets.HeaderSize, 64);
        SharedBytes.Clear((nint)_zeroHeader, DriverPackets.HeaderSize);
        _ring = new SplitDriverRing(_descAddress, _availAddress, _usedAddress, size);

        _cookie = new Mbuf[size];
        _next = new ushort[size];
        _chainLength = new ushort[size];
        _bufferLength = new uint[size];
        _availHeads = new ushort[size];
        _descCopy = new Vector128<ulong>[size];
        RingAddress = new VhostVringAddr((uint)setup.VringIndex, 0, (ulong)_descAddress, (ulong)_usedAddress, (ulong)_availAddress, 0);

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
    public override int Size => _mask + 1;

    /// <inheritdoc/>
    public override bool IsPacked => false;

    /// <inheritdoc/>
    public override uint InitialBase => 0;

    /// <inheritdoc/>
    public override int InFlight => _inFlight;

    /// <summary>Bytes of ring area one queue of <paramref name="size"/> descriptors takes, alignment included.</summary>
    public static long RingAreaBytes(int size)
    {
        uint n = (uint)size;
        long offset = (long)SplitVirtqueueLayout.DescTableSize(n);
        offset = DriverRingArea.AlignUp(offset, 64) + (long)SplitVirtqueueLayout.AvailRingSize(n);
        offset = DriverRingArea.AlignUp(offset, 4096) + (long)SplitVirtqueueLayout.UsedRingSize(n);
        offset = DriverRingArea.AlignUp(offset, 64) + DriverPackets.HeaderSize;
        return DriverRingArea.AlignUp(offset, 4096);
    }

    /// <inheritdoc/>
    private protected override string Kind => "split";

    /// <inheritdoc/>
    private protected override int FreeSlots => _freeCount;

    /// <inheritdoc/>
    private protected override int TransmitBurst(ReadOnlySpan<Mbuf> packets, ref MbufFreeBatch done)
    {
        ReclaimTransmitted(ref done);
        if (Broken)
        {
            return 0;
        }

        ushort startAvail = _availIdx;
        int taken = 0;
        for (; taken < packets.Length; taken++)
        {
            taken += PostPushed(packets[taken..]);
            if (taken == packets.Length)
            {
                break;
            }

            Mbuf packet = packets[taken];
            if (packet.IsNull)
            {
                break;
            }

            DriverQueueFault fault = DriverPackets.PlanTx(packet, _memory, Size, out int descriptors, out bool push);
            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, taken);
                Stats.Dropped++;
                done.Add(packet);
                continue;
            }

            if (descriptors > _freeCount)
            {
                break;
            }

            PostTransmit(packet, descriptors, push);
        }

        if (_availIdx != startAvail)
        {
            PublishAndKick();
        }

        return taken;
    }

    /// <summary>
    /// Posts packets from the start of <paramref name="packets"/> while they take the common shape: one segment whose
    /// header can be pushed into its headroom, inside the memory table, one descriptor each. Returns how many; the
    /// first packet of another shape (or with no descriptor free) is left to the general path. The queue's indexes
    /// and counters live in locals for the loop, so the only stores per packet are the header (when not already
    /// zero), the descriptor and our two per-head records: fewer stores queued behind those on lines the device
    /// holds lets more of the line transfers overlap.
    /// </summary>
    private int PostPushed(ReadOnlySpan<Mbuf> packets)
    {
        ushort freeHead = _freeHead;
        int freeCount = _freeCount;
        ushort availIdx = _availIdx;
        int score = _zeroHeaderScore;
        uint probe = _pushProbe;
        long bytes = 0;
        int n = 0;
        for (; n < packets.Length && freeCount > 0; n++)
        {
            // DriverPackets.PlanTx's checks for this shape, inline: calling it (inlined, with its out values and
            // segment loop) tripled this loop's stack accesses in the tier-1 code (41 against 12).
            Mbuf packet = packets[n];
            if (packet.IsNull || !packet.Next.IsNull || !DriverPackets.CanPush(packet)
                || !_memory.Contains((ulong)(packet.BufferAddress + packet.DataOffset - DriverPackets.HeaderSize), (ulong)packet.DataLength + DriverPackets.HeaderSize))
            {
                break;
            }

            bytes += packet.PacketLength;
            PushTxHeader(packet, ref score, ref probe);
            ushort d = freeHead;
            freeHead = _next[d];
            freeCount--;
            WriteDesc(d, (ulong)(packet.BufferAddress + packet.DataOffset), packet.DataLength, 0, 0);
            _cookie[d] = packet;
            _chainLength[d] = 1;
            PutAvail(availIdx++, d);
        }

        _freeHead = freeHead;
        _freeCount = freeCount;
        _availIdx = availIdx;
        _inFlight += n;
        _zeroHeaderScore = score;
        _pushProbe = probe;
        Stats.Packets += n;
        Stats.Bytes += bytes;
        return n;
    }

    /// <summary>
    /// Pushes the transmit header, reading it before writing only while that keeps paying: mbufs that carried packets
    /// before (sent, or received from a device that, like ours and DPDK's, writes its header only where it differs)
    /// hold a zero header already, while an mbuf whose header a device just wrote has it on a line the device holds,
    /// where a read stalls and a blind store does not. A score of recent finds decides, with every 16th push checked
    /// anyway to notice a change of pattern.
    /// </summary>
    private static void PushTxHeader(Mbuf packet, ref int score, ref uint probe)
    {
        bool check = score > 0 || (++probe & 15) == 0;
        bool wasZero = DriverPackets.PushHeader(packet, check);
        if (check)
        {
            score = wasZero ? Math.Min(score + 1, 16) : Math.Max(score - 4, 0);
        }
    }

    private void PostTransmit(Mbuf packet, int descriptors, bool push)
    {
        Stats.Packets++;
        Stats.Bytes += packet.PacketLength;
        ushort head = Pop();
        if (push)
        {
            PushTxHeader(packet, ref _zeroHeaderScore, ref _pushProbe);
        }

        // Each descriptor is written once, when its successor is known; the last one without NEXT.
        ushort current = head;
        bool havePending = !push;
        ulong pendingAddr = push ? 0 : _zeroHeader;
        uint pendingLen = push ? 0 : (uint)DriverPackets.HeaderSize;
        int written = havePending ? 1 : 0;
        for (Mbuf m = packet; !m.IsNull && written < descriptors; m = m.Next)
        {
            if (!DriverPackets.TakesDescriptor(packet, m, push))
            {
                continue;
            }

            if (havePending)
            {
                ushort d = Pop();
                WriteDesc(current, pendingAddr, pendingLen, (ushort)VirtqDescFlags.Next, d);
                _next[current] = d;
                current = d;
            }

            pendingAddr = (ulong)(m.BufferAddress + m.DataOffset);
            pendingLen = m.DataLength;
            havePending = true;
            written++;
        }

        WriteDesc(current, pendingAddr, pendingLen, 0, 0);
        _cookie[head] = packet;
        _chainLength[head] = (ushort)descriptors;
        Publish(head);
    }

    private void ReclaimTransmitted(ref MbufFreeBatch done)
    {
        if (!TryReadPending(out ushort usedIdx))
        {
            return;
        }

        if (_inOrder && TryReclaimInOrder(usedIdx, ref done))
        {
            return;
        }

        while (_lastUsed != usedIdx)
        {
            uint id = (uint)_ring.ReadUsedElem(_lastUsed);
            if (_inOrder)
            {
                int k = FindInOrder(id, (ushort)(usedIdx - _lastUsed));
                if (k < 0)
                {
                    Stats.Fault(id >= _size ? DriverQueueFault.UsedIdOutOfRange : DriverQueueFault.UsedIdNotInFlight, id);
                    k = 0; // in order, this element can only be the oldest buffer: recover that one
                }

                CompleteInOrder(k + 1, ref done);
                continue;
            }

            if (id >= _size)
            {
                Stats.Fault(DriverQueueFault.UsedIdOutOfRange, id);
            }
            else if (_chainLength[id] == 0)
            {
                Stats.Fault(DriverQueueFault.UsedIdNotInFlight, id);
            }
            else
            {
                done.Add(_cookie[id]);
                Release((ushort)id);
            }

            _lastUsed++;
        }
    }

    /// <summary>
    /// In order, used-&gt;idx alone says which transmit buffers are done: every one made available before it
    /// (§2.7.10; a device may even write one element for a batch). Reads one element, the last published, and when it
    /// names the buffer made available at that position (as a device that writes an element per buffer leaves it),
    /// completes them all without reading the others: one line of the used ring per burst instead of one per eight
    /// buffers. False, with nothing done, when it names anything else; the element-by-element path then judges.
    /// </summary>
    private bool TryReclaimInOrder(ushort usedIdx, ref MbufFreeBatch done)
    {
        ushort last = (ushort)(usedIdx - 1);
        uint id = (uint)_ring.ReadUsedElem(last);
        if (id >= _size || _availHeads[last & _mask] != id || _chainLength[id] == 0)
        {
            return false;
        }

        CompleteInOrder((ushort)(usedIdx - _lastUsed), ref done);
        return true;
    }

    /// <summary>In order: completes the <paramref name="count"/> oldest buffers made available (those still in flight) and moves past them.</summary>
    private void CompleteInOrder(int count, ref MbufFreeBatch done)
    {
        for (int j = 0; j < count; j++)
        {
            ushort head = _availHeads[(ushort)(_lastUsed + j) & _mask];
            if (_chainLength[head] != 0)
            {
                done.Add(_cookie[head]);
                Release(head);
            }
        }

        _lastUsed += (ushort)count;
    }

    private protected override int Harvest(Span<Mbuf> packets, ref MbufFreeBatch done)
    {
        if (!TryReadPending(out ushort usedIdx))
        {
            return 0;
        }

        PrefetchReceived(Math.Min((ushort)(usedIdx - _lastUsed), packets.Length));

        int n = 0;
        while (n < packets.Length && _lastUsed != usedIdx)
        {
            n = HarvestSingles(packets, n, usedIdx);
            if (n == packets.Length || _lastUsed == usedIdx)
            {
                break;
            }

            ulong element = _ring.ReadUsedElem(_lastUsed);
            uint id = (uint)element;
            uint len = (uint)(element >> 32);
            DriverQueueFault fault = CheckReceived(id, len, first: true);
            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, fault == DriverQueueFault.UsedLengthTooLong || fault == DriverQueueFault.UsedLengthTooShort ? len : id);
                Stats.Dropped++;
                Recover(id, ref done);
                _lastUsed++;
                continue;
            }

            ushort buffers = _mergeable ? DriverPackets.ReadNumBuffers(_cookie[id]) : (ushort)1;
            int published = (ushort)(usedIdx - _lastUsed);
            if (buffers == 0 || buffers > Mbuf.MaxSegments || buffers > InFlight)
            {
                Stats.Fault(DriverQueueFault.NumBuffersInvalid, buffers);
                Stats.Dropped++;
                Recover(id, ref done);
                _lastUsed++;
                continue;
            }

            if (buffers > published)
            {
                break; // the rest of this packet is not published yet
            }

            Mbuf head = Take((ushort)id);
            DriverPackets.FinishRxHead(head, len, _port);
            if (buffers == 1)
            {
                _lastUsed++;
                Stats.Packets++;
                Stats.Bytes += head.PacketLength;
                packets[n++] = head;
                continue;
            }

            if (AssembleMerged(head, buffers, ref done))
            {
                Stats.Packets++;
                Stats.Bytes += head.PacketLength;
                packets[n++] = head;
            }

            _lastUsed += buffers;
        }

        return n;
    }

    /// <summary>
    /// Takes used receive buffers into <paramref name="packets"/> from index <paramref name="n"/> while each is a whole
    /// packet in one buffer that passes the checks (<see cref="CheckReceived"/>, num_buffers 1); returns the new count.
    /// Stops at the first element that needs more (a fault, a merged packet) and leaves it to the general path. The
    /// queue's indexes and counters live in locals for the loop (see <see cref="PostReceive"/>).
    /// </summary>
    private int HarvestSingles(Span<Mbuf> packets, int n, ushort usedIdx)
    {
        ushort lastUsed = _lastUsed;
        ushort freeTail = _freeTail;
        int freeCount = _freeCount;
        int start = n;
        long bytes = 0;
        while (n < packets.Length && lastUsed != usedIdx)
        {
            ulong element = _ring.ReadUsedElem(lastUsed);
            uint id = (uint)element;
            uint len = (uint)(element >> 32);
            if (CheckReceived(id, len, first: true) != DriverQueueFault.None || _chainLength[id] != 1)
            {
                break;
            }

            Mbuf m = _cookie[id];
            if (_mergeable && DriverPackets.ReadNumBuffers(m) != 1)
            {
                break;
            }

            // Release (below) for a one-descriptor chain, with the free list in locals: a shared helper taking them
            // by reference gave this loop more stack spills in the tier-1 code (16 stack accesses against 9).
            if (freeCount == 0)
            {
                _freeHead = (ushort)id;
            }
            else
            {
                _next[freeTail] = (ushort)id;
            }

            freeTail = (ushort)id;
            freeCount++;
            _chainLength[id] = 0;
            _cookie[id] = default;
            DriverPackets.FinishRxHead(m, len, _port);
            bytes += m.PacketLength;
            packets[n++] = m;
            lastUsed++;
        }

        int taken = n - start;
        _lastUsed = lastUsed;
        _freeTail = freeTail;
        _freeCount = freeCount;
        _inFlight -= taken;
        Stats.Packets += taken;
        Stats.Bytes += bytes;
        return n;
    }

    /// <summary>
    /// Prefetches what the device wrote into the next <paramref name="count"/> used buffers: the virtio-net header
    /// (num_buffers, read here with MRG_RXBUF) and the first bytes of the frame (read by the Rx class counters and by
    /// the application), so the cache misses overlap instead of coming one per packet. Hints only: the elements
    /// are read again, and checked, when they are taken.
    /// </summary>
    private void PrefetchReceived(int count)
    {
        for (int k = 0; k < count; k++)
        {
            uint id = (uint)_ring.ReadUsedElem((ushort)(_lastUsed + k));
            if (id < _size)
            {
                Mbuf posted = _cookie[id];
                if (!posted.IsNull)
                {
                    nint data = posted.BufferAddress + posted.DataOffset;
                    if (_mergeable)
                    {
                        CacheHints.Prefetch(data - DriverPackets.HeaderSize);
                    }

                    CacheHints.Prefetch(data);
                }
            }
        }
    }

    /// <summary>Chains buffers 1..count-1 of a merged packet to <paramref name="head"/>; on a bad element frees the packet and recovers the rest.</summary>
    private bool AssembleMerged(Mbuf head, ushort count, ref MbufFreeBatch done)
    {
        uint total = head.DataLength;
        ref MbufHeader last = ref head.Header;
        for (int k = 1; k < count; k++)
        {
            ulong element = _ring.ReadUsedElem((ushort)(_lastUsed + k));
            uint id = (uint)element;
            uint len = (uint)(element >> 32);
            DriverQueueFault fault = CheckReceived(id, len, first: false);
            if (fault == DriverQueueFault.None && total + len > Mbuf.MaxPacketLength)
            {
                fault = DriverQueueFault.PacketTooLong;
            }

            if (fault != DriverQueueFault.None)
            {
                Stats.Fault(fault, fault == DriverQueueFault.PacketTooLong ? total + len : id);
                Stats.Dropped++;
                head.Header.NbSegs = (ushort)k;
                done.Add(head);
                for (int j = k; j < count; j++)
                {
                    Recover((uint)_ring.ReadUsedElem((ushort)(_lastUsed + j)), ref done);
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

        if (_chainLength[id] == 0)
        {
            return DriverQueueFault.UsedIdNotInFlight;
        }

        if (len > _bufferLength[id])
        {
            return DriverQueueFault.UsedLengthTooLong;
        }

        return first && len < DriverPackets.MinRxLength ? DriverQueueFault.UsedLengthTooShort : DriverQueueFault.None;
    }

    /// <summary>Returns the buffer a bad receive element named to the pool, when the id names one in flight.</summary>
    private void Recover(uint id, ref MbufFreeBatch done)
    {
        if (id < _size && _chainLength[id] != 0)
        {
            done.Add(_cookie[id]);
            Release((ushort)id);
        }
    }

    /// <summary>used-&gt;idx, checked: false when nothing is pending or the index jumped (the queue is then broken).</summary>
    private bool TryReadPending(out ushort usedIdx)
    {
        usedIdx = _ring.ReadUsedIdx();
        ushort pending = (ushort)(usedIdx - _lastUsed);
        if (pending == 0)
        {
            return false;
        }

        if (pending > (ushort)(_availIdx - _lastUsed))
        {
            Stats.Fault(DriverQueueFault.UsedIndexJump, usedIdx);
            Stats.Broken++;
            Broken = true;
            return false;
        }

        return true;
    }

    /// <summary>In order: the distance from the oldest outstanding buffer to the one <paramref name="id"/> names, within the published window; -1 if none.</summary>
    private int FindInOrder(uint id, int window)
    {
        if (id >= _size || _chainLength[id] == 0)
        {
            return -1;
        }

        for (int j = 0; j < window; j++)
        {
            if (_availHeads[(ushort)(_lastUsed + j) & _mask] == id)
            {
                return j;
            }
        }

        return -1;
    }

    private protected override int Refill()
    {
        Mempool pool = _pool!;
        Span<Mbuf> fresh = _fresh;
        ushort startAvail = _availIdx;
        int posted = 0;
        while (_freeCount > 0)
        {
            int chunk = Math.Min(_freeCount, BatchSize);
            if (pool.AllocBulk(fresh[..chunk]) == 0)
            {
                // All or none: when the pool runs low, take what is left one by one.
                chunk = 1;
                if (pool.AllocBulk(fresh[..1]) == 0)
                {
                    Stats.RxNoMbuf++;
                    break;
                }
            }

            PostReceive(fresh[..chunk]);
            posted += chunk;
        }

        if (_availIdx != startAvail)
        {
            PublishAndKick();
        }

        return posted;
    }

    /// <summary>
    /// Posts one receive buffer per mbuf of <paramref name="fresh"/> (at most the free descriptors). The queue's
    /// indexes live in locals for the loop, so the only stores per buffer are the descriptor and our three per-head
    /// records: fewer stores queued behind the descriptor stores, whose lines the device holds, lets more of those
    /// line transfers overlap.
    /// </summary>
    private void PostReceive(ReadOnlySpan<Mbuf> fresh)
    {
        ushort freeHead = _freeHead;
        ushort availIdx = _availIdx;
        for (int i = 0; i < fresh.Length; i++)
        {
            Mbuf m = fresh[i];
            ushort d = freeHead;
            freeHead = _next[d];
            uint len = DriverPackets.RxBufferLength(m);
            WriteDesc(d, DriverPackets.RxBufferAddress(m), len, (ushort)VirtqDescFlags.Write, 0);
            _cookie[d] = m;
            _chainLength[d] = 1;
            _bufferLength[d] = len;
            PutAvail(availIdx++, d);
        }

        _freeHead = freeHead;
        _freeCount -= fresh.Length;
        _availIdx = availIdx;
        _inFlight += fresh.Length;
    }

    /// <summary>Puts <paramref name="head"/> into the available ring (not yet published).</summary>
    private void Publish(ushort head)
    {
        PutAvail(_availIdx, head);
        _availIdx++;
        _inFlight++;
    }

    /// <summary>
    /// Sets avail entry <paramref name="availIdx"/> to <paramref name="head"/>, writing it only when it changes (DPDK's
    /// vq_update_avail_ring): with the FIFO free list and in-order completions the same head comes back to the same
    /// slot, and the device's copy of the line stays valid.
    /// </summary>
    private void PutAvail(ushort availIdx, ushort head)
    {
        ref ushort entry = ref _availHeads[availIdx & _mask];
        if (entry != head)
        {
            entry = head;
            _ring.WriteAvailEntry(availIdx, head);
        }
    }

    private void PublishAndKick()
    {
        _ring.PublishAvailIdx(_availIdx);
        Interlocked.MemoryBarrier(); // the index store must be visible before used->flags is read (§2.7.13.4)
        if ((_ring.ReadUsedFlags() & VirtqUsedHeader.FlagNoNotify) == 0)
        {
            _ = KickFd.Signal();
            Stats.Kicks++;
        }
        else
        {
            Stats.KicksSuppressed++;
        }
    }

    /// <summary>
    /// Writes descriptor <paramref name="index"/> unless our copy says it already holds exactly this: the device reads
    /// the table, so a store to an unchanged line would only take it out of the device's cache. With the FIFO free
    /// list and in-order completions the same buffer often comes back to the same descriptor (a receive ring
    /// refilled with the mbufs just freed; a full transmit ring sending the mbufs it just reclaimed).
    /// </summary>
    private void WriteDesc(ushort index, ulong addr, uint len, ushort flags, ushort next)
    {
        // One 16-byte store for the descriptor and one for our copy: half the store-buffer entries of two 8-byte
        // halves each, so more of a burst's descriptor stores (whose lines the device holds) are in flight at once.
        var value = Vector128.Create(addr, len | ((ulong)flags << 32) | ((ulong)next << 48));
        ref Vector128<ulong> copy = ref _descCopy[index];
        if (copy != value)
        {
            _ring.WriteDesc(index, value);
            copy = value;
        }
    }

    private ushort Pop()
    {
        ushort d = _freeHead;
        _freeHead = _next[d];
        _freeCount--;
        return d;
    }

    /// <summary>Takes the mbuf a used receive buffer holds and frees its descriptor.</summary>
    private Mbuf Take(ushort head)
    {
        Mbuf m = _cookie[head];
        Release(head);
        return m;
    }

    /// <summary>
    /// Returns the chain at <paramref name="head"/> to the tail of the free list (following our own links only). FIFO,
    /// as DPDK's virtio PMD: completed in order, descriptors come back in the order they were posted, so each avail
    /// slot gets the same head again and neither it nor (when the buffer is the same) the descriptor is rewritten.
    /// </summary>
    private void Release(ushort head)
    {
        int count = _chainLength[head];
        ushort tail = head;
        for (int i = 1; i < count; i++)
        {
            tail = _next[tail];
        }

        if (_freeCount == 0)
        {
            _freeHead = head;
        }
        else
        {
            _next[_freeTail] = head;
        }

        _freeTail = tail;
        _freeCount += count;
        _chainLength[head] = 0;
        _cookie[head] = default;
        _inFlight--;
    }

    private protected override void FreeInFlight()
    {
        var done = new MbufFreeBatch(stackalloc Mbuf[BatchSize]);
        for (int i = 0; i < _chainLength.Length; i++)
        {
            if (_chainLength[i] != 0)
            {
                if (Role == DriverQueueRole.Transmit)
                {
                    Stats.Dropped++;
                }

                done.Add(_cookie[i]);
                _chainLength[i] = 0;
                _cookie[i] = default;
            }
        }

        done.Flush();
    }

    private protected override void ResetCore()
    {
        FreeInFlight();
        uint size = (uint)Size;
        SharedBytes.Clear(_descAddress, (long)SplitVirtqueueLayout.DescTableSize(size));
        SharedBytes.Clear(_availAddress, (long)SplitVirtqueueLayout.AvailRingSize(size));
        SharedBytes.Clear(_usedAddress, (long)SplitVirtqueueLayout.UsedRingSize(size));
        _ring.WriteAvailFlags(VirtqAvailHeader.FlagNoInterrupt);
        for (int i = 0; i < _next.Length; i++)
        {
            _next[i] = (ushort)(i + 1);
        }

        Array.Clear(_availHeads); // our copies of the rings just cleared
        Array.Clear(_descCopy);
        _freeHead = 0;
        _freeTail = (ushort)(Size - 1);
        _freeCount = Size;
        _availIdx = 0;
        _lastUsed = 0;
        _inFlight = 0;
        Broken = false;
        Stats.Resets++;
    }
}
