using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// The backend's side of one split virtqueue (virtio 1.2 §2.7 "Split Virtqueues") of a virtio-net device
/// (§5.1.6): <see cref="Dequeue"/> on a transmitq, <see cref="Enqueue"/> on a receiveq. Poll mode: the guest is
/// told not to kick, and interrupted through <see cref="VirtqueueSetup.Call"/> as its suppression settings allow.
/// </summary>
/// <remarks>
/// <para><b>Trust.</b> Everything the guest writes is read once into a local and validated before use: avail->idx
/// once per burst (a move of more than the ring size since the last look breaks the queue for good:
/// <see cref="VhostQueueFault.AvailIndexJump"/>, <see cref="VhostQueueStats.Broken"/>, every later call returns 0,
/// and the session is expected to drop the connection); each avail entry once; each descriptor once
/// (<see cref="SplitChainWalker"/> has the rules). A malformed chain costs that chain only: its head goes back in
/// the used ring with length 0, the fault is counted, and the burst goes on with the next head.</para>
/// <para><b>Choices where the spec allows several.</b>
/// (1) Used elements are written in the order heads were taken from the avail ring, one per head, so
/// VIRTIO_F_IN_ORDER holds without special handling (no batching of in-order used entries).
/// (2) Without VIRTIO_F_EVENT_IDX used->flags is set to VIRTQ_USED_F_NO_NOTIFY at creation; with it, used->flags
/// is set to 0 as §2.7.10 requires and avail_event is left as it is, so the guest kicks at most once per 2^16
/// avail entries (DPDK and Linux vhost do the same when notifications are disabled).
/// (3) Interrupts: with EVENT_IDX, vring_need_event(used_event, new, old) where old is the used index at the
/// previous publish; the first publish after creation always interrupts (Linux/DPDK "signalled_used_valid").
/// Without EVENT_IDX, unless avail->flags has VIRTQ_AVAIL_F_NO_INTERRUPT.
/// (4) used->idx starts where it is in guest memory (DPDK: last_used_idx = used->idx); the avail side starts
/// at <see cref="VirtqueueSetup.Base"/>.
/// (5) Receive without VIRTIO_NET_F_MRG_RXBUF: a packet longer than the chain at the head of the avail ring is
/// dropped (<see cref="VhostQueueStats.Dropped"/>) and the head is not consumed: it serves the next packet (Linux
/// vhost-net does this; DPDK instead stops the burst there, which drops every packet after it too).
/// (6) Receive: every chain must hold at least the virtio-net header (§5.1.6.3.1, for mergeable buffers; a shorter
/// chain can never hold a packet): else <see cref="VhostQueueFault.HeaderTooShort"/>, returned with length 0.
/// (7) A fault in the middle of a packet spread over several merged buffers returns every buffer taken for it
/// so far with length 0 (the guest sees empty buffers, never a truncated packet) and starts the packet again at the
/// next head.
/// (8) Work per call is bounded whatever the guest writes: <see cref="Dequeue"/> takes at most
/// <c>packets.Length</c> heads (a malformed one counts), <see cref="Enqueue"/> stops at the
/// (<c>packets.Length</c> + 1)-th malformed chain; each chain walk reads at most queue-size descriptors plus an
/// indirect table of at most queue-size entries.</para>
/// <para><b>Dirty log.</b> With a log, every byte written to a receive buffer is marked through the guest-physical
/// address of its descriptor, and with <see cref="VirtqueueSetup.LogUsedRing"/> every used element, used->idx and
/// used->flags through <see cref="VirtqueueSetup.UsedLogGuestAddr"/>.</para>
/// <para><b>Data path.</b> <see cref="Dequeue"/> and <see cref="Enqueue"/> never allocate, throw or lock; one lcore
/// at a time uses the queue.</para>
/// </remarks>
public sealed class SplitVhostQueue : IVhostQueue
{
    private readonly SplitRingView _ring;
    private readonly GuestMemory _memory;
    private readonly DirtyLog? _log;
    private readonly DirtyLog? _usedLog;
    private readonly ulong _usedGuestAddr;
    private readonly EventFd? _call;
    private readonly uint _size;
    private readonly int _headerSize;
    private readonly bool _mergeable;
    private readonly bool _eventIdx;
    private readonly bool _indirect;
    private readonly bool _txChecksum;

    /// <summary>Heads taken for the packet being enqueued (merged buffers), to return them with length 0 on a fault.</summary>
    private readonly ushort[] _attemptHeads;

    /// <summary>The heads <see cref="PrefetchChains"/> reads, at most this many per burst.</summary>
    private readonly ushort[] _prefetchHeads = new ushort[64];

    /// <summary>
    /// Whether this <see cref="Enqueue"/> burst writes frames with streaming stores: the guest had at least half its
    /// receive ring posted when it began (see <see cref="TryPlaceSingle"/>).
    /// </summary>
    private bool _streamFrames;

    /// <summary>Whether this burst issued a streaming store, so the used index waits for a store fence.</summary>
    private bool _streamed;

    /// <summary>Malformed chains an <see cref="Enqueue"/> call may still step over (one per packet of the burst); the next one stops it.</summary>
    private int _faultBudget;

    private ushort _lastAvail;
    private ushort _usedIdx;
    private ushort _signalledUsed;
    private bool _signalledUsedValid;
    private bool _broken;

    private SplitVhostQueue(VirtqueueSetup setup, SplitRingView ring)
    {
        _ring = ring;
        _memory = setup.Memory;
        _log = setup.Log;
        _usedLog = setup.LogUsedRing ? setup.Log : null;
        _usedGuestAddr = setup.UsedLogGuestAddr;
        _call = setup.Call;
        _size = ring.Size;
        Features = setup.Features;
        _headerSize = VirtioFeatures.NetHeaderSize(setup.Features);
        _mergeable = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.NetMrgRxbuf);
        _eventIdx = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingEventIdx);
        _indirect = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingIndirectDesc);
        _txChecksum = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.NetCsum); // offload requests only count when negotiated (as packed)
        _attemptHeads = _mergeable ? new ushort[_size] : [];
        Index = setup.Index;
        _lastAvail = (ushort)setup.Base;
        _usedIdx = ring.ReadUsedIdx();

        // Poll mode: the guest need not kick (§2.7.10: with EVENT_IDX the device MUST set used->flags to 0).
        _ring.WriteUsedFlags(_eventIdx ? (ushort)0 : VirtqUsedHeader.FlagNoNotify);
        _usedLog?.MarkDirty(_usedGuestAddr, 2);
    }

    /// <inheritdoc/>
    public int Index { get; }

    /// <inheritdoc/>
    public VhostQueueStats Stats { get; } = new();

    /// <summary>Descriptors in the ring.</summary>
    public int Size => (int)_size;

    /// <summary>The negotiated feature bits the queue runs with.</summary>
    public ulong Features { get; }

    /// <summary>The virtio-net header size in use (12 with VERSION_1 or MRG_RXBUF, else 10).</summary>
    public int HeaderSize => _headerSize;

    /// <summary>True once the ring was found broken beyond repair (see <see cref="VhostQueueStats.Broken"/>): every call returns 0.</summary>
    public bool IsBroken => _broken;

    /// <summary>
    /// Checks <paramref name="setup"/> and maps the rings: a size that is a power of two up to 32768, a split ring
    /// (not VIRTIO_F_RING_PACKED), no VIRTIO_F_ACCESS_PLATFORM (IOTLB translation is not supported), a base below
    /// 2^16, ring addresses aligned as §2.7 requires (16, 2, 4) and each ring translated whole through the memory
    /// table: the descriptor table (16 × size), the avail ring (4 + 2 × size, + 2 for used_event with EVENT_IDX) and
    /// the used ring (4 + 8 × size, + 2 for avail_event with EVENT_IDX), each inside one region.
    /// Never throws for bad input: returns <see langword="false"/> and says what is wrong.
    /// </summary>
    public static bool TryCreate(VirtqueueSetup setup, [NotNullWhen(true)] out SplitVhostQueue? queue, [NotNullWhen(false)] out string? error)
    {
        queue = null;
        if (setup is null)
        {
            error = "no virtqueue setup";
            return false;
        }

        if (setup.Memory is null)
        {
            error = $"vring {setup.Index}: no memory table";
            return false;
        }

        if (setup.Size < 0 || !SplitVirtqueueLayout.IsValidQueueSize((uint)setup.Size))
        {
            error = $"vring {setup.Index}: size {setup.Size} is not a power of two from 1 to {SplitVirtqueueLayout.MaxQueueSize}";
            return false;
        }

        if (VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingPacked))
        {
            error = $"vring {setup.Index}: VIRTIO_F_RING_PACKED is negotiated; a split queue cannot serve it";
            return false;
        }

        if (VirtioFeatures.IsSet(setup.Features, VirtioFeatures.AccessPlatform))
        {
            error = $"vring {setup.Index}: VIRTIO_F_ACCESS_PLATFORM (IOTLB) is negotiated and not supported";
            return false;
        }

        if (setup.Base > ushort.MaxValue)
        {
            error = $"vring {setup.Index}: base {setup.Base} does not fit the 16-bit split ring index";
            return false;
        }

        uint size = (uint)setup.Size;
        ulong eventBytes = VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingEventIdx) ? 0UL : 2UL;
        if (!TryMap(setup, "descriptor table", setup.DescUserAddr, SplitVirtqueueLayout.DescTableSize(size), SplitVirtqueueLayout.DescTableAlignment, out nint desc, out error)
            || !TryMap(setup, "avail ring", setup.AvailUserAddr, SplitVirtqueueLayout.AvailRingSize(size) - eventBytes, SplitVirtqueueLayout.AvailRingAlignment, out nint avail, out error)
            || !TryMap(setup, "used ring", setup.UsedUserAddr, SplitVirtqueueLayout.UsedRingSize(size) - eventBytes, SplitVirtqueueLayout.UsedRingAlignment, out nint used, out error))
        {
            return false;
        }

        queue = new SplitVhostQueue(setup, new SplitRingView(desc, avail, used, size));
        return true;
    }

    /// <inheritdoc/>
    public uint GetBase() => _lastAvail;

    /// <inheritdoc/>
    public int Dequeue(Mempool pool, Span<Mbuf> packets)
    {
        if (_broken || packets.IsEmpty || pool is null || !TryPending(out uint pending) || pending == 0)
        {
            return 0;
        }

        // At most one head per slot of the burst, packet or fault: a ring full of looping chains costs a call at
        // most packets.Length walks of at most 2 × size descriptors each.
        uint budget = Math.Min(pending, (uint)packets.Length);
        ushort oldUsed = _usedIdx;
        int count = 0;

        // One bulk allocation for the burst, into the caller's span (DPDK's rte_pktmbuf_alloc_bulk): packets[count]
        // is the fresh mbuf the next head is copied into; what is left over goes back at the end.
        Span<Mbuf> fresh = packets[..(int)budget];
        bool bulk = pool.AllocBulk(fresh) != 0;
        PrefetchChains(budget);
        for (uint taken = 0; taken < budget; taken++)
        {
            ushort head = _ring.ReadAvailEntry(_lastAvail);
            Mbuf packet = bulk ? packets[count] : pool.Alloc();
            if (packet.IsNull)
            {
                Stats.MbufShortages++;
                break; // no mbufs: the head stays in the ring for the next burst, nothing is dropped
            }

            SplitTxOutcome outcome = TryCopySingleTx(head, packet) ? SplitTxOutcome.Packet : CopyTxChain(head, pool, packet);
            if (outcome == SplitTxOutcome.NoMbufs)
            {
                packet.Free();
                if (bulk)
                {
                    packets[count] = default; // freed: not among the leftovers
                }

                Stats.MbufShortages++;
                break;
            }

            if (outcome == SplitTxOutcome.Packet)
            {
                packets[count++] = packet;
                Stats.Packets++;
                Stats.Bytes += packet.PacketLength;
            }
            else
            {
                // A fault: the mbuf may hold part of the chain (and segments); give it back and take a fresh one.
                packet.Free();
                if (bulk)
                {
                    packets[count] = pool.Alloc(); // null when the pool ran dry: the next head then waits
                }
            }

            _ring.WriteUsedElem(_usedIdx++, head, 0);
            _lastAvail++;
        }

        if (bulk && count < fresh.Length)
        {
            FreeLeftovers(fresh[count..]);
        }

        Publish(oldUsed);
        return count;
    }

    /// <summary>Returns the fresh mbufs a burst did not use (null entries skipped).</summary>
    private static void FreeLeftovers(Span<Mbuf> leftovers)
    {
        int kept = 0;
        for (int i = 0; i < leftovers.Length; i++)
        {
            if (!leftovers[i].IsNull)
            {
                leftovers[kept++] = leftovers[i];
            }
        }

        Mbuf.FreeBulk(leftovers[..kept]);
        leftovers.Clear();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Returns the number of packets, from the start, the queue is done with: delivered, or (without MRG_RXBUF)
    /// dropped for being longer than the chain at the head of the avail ring. It stops at the first packet for
    /// which the avail ring has no buffers (left). <see cref="VhostQueueStats.Dropped"/> counts every packet of
    /// <paramref name="packets"/> that was not delivered, so Packets + Dropped grows by exactly
    /// <paramref name="packets"/>.Length per call.
    /// </remarks>
    public int Enqueue(ReadOnlySpan<Mbuf> packets)
    {
        if (packets.IsEmpty)
        {
            return 0;
        }

        if (_broken || !TryPending(out uint left))
        {
            Stats.Dropped += packets.Length;
            return 0;
        }

        ushort oldUsed = _usedIdx;
        _faultBudget = packets.Length;
        _streamFrames = left >= _size / 2;
        _streamed = false;
        PrefetchChains(Math.Min(left, (uint)packets.Length));
        int done = 0;
        for (; done < packets.Length; done++)
        {
            Mbuf packet = packets[done];
            if (packet.IsNull)
            {
                Stats.Dropped++;
                continue;
            }

            SplitRxOutcome outcome = PlacePacket(packet, ref left, out uint payload);
            if (outcome == SplitRxOutcome.NoBuffers)
            {
                break;
            }

            if (outcome == SplitRxOutcome.Delivered)
            {
                Stats.Packets++;
                Stats.Bytes += payload;
            }
            else
            {
                Stats.Dropped++;
            }
        }

        Stats.Dropped += packets.Length - done;
        if (_streamed)
        {
            PacketCopy.StreamingFence(); // the frames before the used index that hands them over
        }

        Publish(oldUsed);
        return done;
    }

    /// <summary>
    /// Prefetch hints for the next <paramref name="count"/> (at most 64) chains: the descriptor each avail entry
    /// names, then the start of its buffer (the virtio-net header, which receive
    /// compares before writing, and on transmit the frame after it), so the burst's cache misses on lines the guest
    /// just wrote overlap instead of coming one per packet (DPDK prefetches the same way). Hints only: nothing read
    /// here is trusted or used; the burst reads every entry and descriptor again, once, and validates that copy.
    /// </summary>
    private void PrefetchChains(uint count)
    {
        // The heads go in a field, not stackalloc: a method with stackalloc and a loop is compiled without tiering
        // or profile data.
        Span<ushort> heads = _prefetchHeads;
        int n = (int)Math.Min(count, (uint)heads.Length);
        SplitDescTableView table = _ring.DescTable;
        for (int k = 0; k < n; k++)
        {
            ushort head = _ring.ReadAvailEntry((ushort)(_lastAvail + k));
            heads[k] = head;
            CacheHints.Prefetch(table.AddressOf(head));
        }

        for (int k = 0; k < n; k++)
        {
            if (table.TryRead((uint)(heads[k] & (_size - 1)), out VirtqDesc desc)
                && (desc.Flags & (ushort)VirtqDescFlags.Indirect) == 0
                && desc.Len != 0
                && _memory.TryTranslateGuestPhysical(desc.Addr, 1, out nint host))
            {
                CacheHints.Prefetch(host);
                if ((desc.Flags & (ushort)VirtqDescFlags.Write) == 0 && (host & 63) + Math.Min(desc.Len, 128u) > 64)
                {
                    CacheHints.Prefetch(host + 64);
                }
            }
        }
    }

    /// <summary>vring_need_event (§2.7.10, linux virtio_ring.h): whether moving the used index from <paramref name="old"/> to <paramref name="newIdx"/> passed <paramref name="eventIdx"/>.</summary>
    internal static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort old) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - old);

    private static bool TryMap(VirtqueueSetup setup, string part, ulong userAddr, ulong length, int alignment, out nint host, [NotNullWhen(false)] out string? error)
    {
        if (userAddr % (ulong)alignment != 0)
        {
            host = 0;
            error = $"vring {setup.Index}: the {part} at user address 0x{userAddr:X} is not {alignment}-byte aligned";
            return false;
        }

        if (!setup.Memory.TryTranslateUser(userAddr, length, out host))
        {
            error = $"vring {setup.Index}: the {part} [0x{userAddr:X}, +0x{length:X}) is not wholly inside one region of the memory table";
            return false;
        }

        if ((ulong)(nuint)host % (ulong)alignment != 0)
        {
            error = $"vring {setup.Index}: the {part} maps to host address 0x{(ulong)(nuint)host:X}, not {alignment}-byte aligned (region mmap offset)";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Reads avail->idx once: how many heads wait, or false (and the queue broken) when it jumped by more than the ring.</summary>
    private bool TryPending(out uint pending)
    {
        ushort availIdx = _ring.ReadAvailIdx();
        pending = (ushort)(availIdx - _lastAvail);
        if (pending <= _size)
        {
            return true;
        }

        pending = 0;
        _broken = true;
        Stats.Broken++;
        Stats.Fault(VhostQueueFault.AvailIndexJump, availIdx);
        return false;
    }

    /// <summary>
    /// The common transmit chain, done without the chain walker: one direct descriptor (no NEXT, INDIRECT or WRITE)
    /// holding the header and a packet that fits the fresh mbuf <paramref name="packet"/>, inside one region. The
    /// descriptor is read once and only that copy is used. False, with nothing written, for any other chain, which
    /// <see cref="CopyTxChain"/> then walks (and judges) from the start.
    /// </summary>
    private bool TryCopySingleTx(ushort head, Mbuf packet)
    {
        if (!_ring.DescTable.TryRead(head, out VirtqDesc desc) || desc.Flags != 0)
        {
            return false;
        }

        uint length = desc.Len;
        if (length <= (uint)_headerSize
            || length - (uint)_headerSize > (uint)packet.Tailroom
            || !_memory.TryTranslateGuestPhysical(desc.Addr, length, out nint host))
        {
            return false;
        }

        ReadOnlySpan<byte> source = SplitRingView.GuestBytes(host, (int)length);
        VirtioNetHeader header = default;
        if (_headerSize == VirtioNetHeader.Size)
        {
            header = MemoryMarshal.Read<VirtioNetHeader>(source);
        }
        else
        {
            source[.._headerSize].CopyTo(MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref header)));
        }

        int data = (int)length - _headerSize; // at most the fresh mbuf's tailroom
        packet.DataLength = (ushort)data;
        packet.PacketLength = (uint)data;
        PacketCopy.Copy(source[_headerSize..], packet.Data);
        if (_txChecksum)
        {
            VirtioNetHeaderOps.ApplyTxOffloads(in header, packet);
        }

        return true;
    }

    /// <summary>Copies the transmit chain at <paramref name="head"/> (virtio-net header, then the packet) into <paramref name="packet"/>, chaining mbufs from <paramref name="pool"/>.</summary>
    private SplitTxOutcome CopyTxChain(ushort head, Mempool pool, Mbuf packet)
    {
        var walker = new SplitChainWalker(_ring.DescTable, _memory, _indirect, deviceWritable: false, (ulong)_headerSize + Mbuf.MaxPacketLength, head);
        VirtioNetHeader header = default;
        Span<byte> headerBytes = MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref header))[.._headerSize];
        int headerDone = 0;
        Mbuf last = packet;
        while (true)
        {
            SplitWalkStep step = walker.Next(out SplitBuffer buffer);
            if (step == SplitWalkStep.End)
            {
                break;
            }

            if (step == SplitWalkStep.Fault)
            {
                Stats.Fault(walker.Fault, walker.FaultIndex);
                return SplitTxOutcome.Fault;
            }

            // Length ≤ header + Mbuf.MaxPacketLength (the walker's maximum): fits an int.
            ReadOnlySpan<byte> source = SplitRingView.GuestBytes(buffer.HostAddr, (int)buffer.Length);
            if (headerDone == 0 && _headerSize == VirtioNetHeader.Size && source.Length >= VirtioNetHeader.Size)
            {
                // The usual layout: the whole header at the start of the first buffer. One read, no copy call.
                header = MemoryMarshal.Read<VirtioNetHeader>(source);
                headerDone = VirtioNetHeader.Size;
                source = source[VirtioNetHeader.Size..];
            }
            else if (headerDone < _headerSize)
            {
                int n = Math.Min(source.Length, _headerSize - headerDone);
                PacketCopy.Copy(source[..n], headerBytes[headerDone..]);
                headerDone += n;
                source = source[n..];
            }

            while (!source.IsEmpty)
            {
                if (last.Tailroom == 0)
                {
                    Mbuf segment = pool.Alloc();
                    if (segment.IsNull)
                    {
                        return SplitTxOutcome.NoMbufs;
                    }

                    if (!packet.TryChain(segment))
                    {
                        segment.Free();
                        Stats.Fault(VhostQueueFault.LengthOverflow, head);
                        return SplitTxOutcome.Fault;
                    }

                    last = segment;
                }

                int take = Math.Min(last.Tailroom, source.Length);
                int at = last.DataLength;
                last.DataLength = (ushort)(at + take);
                packet.PacketLength += (uint)take;
                PacketCopy.Copy(source[..take], last.Data[at..]);
                source = source[take..];
            }
        }

        // CVE-2022-2132: a chain no longer than the header carries no packet.
        if (headerDone < _headerSize || packet.PacketLength == 0)
        {
            Stats.Fault(VhostQueueFault.HeaderTooShort, head);
            return SplitTxOutcome.Fault;
        }

        if (_txChecksum)
        {
            VirtioNetHeaderOps.ApplyTxOffloads(in header, packet);
        }
        return SplitTxOutcome.Packet;
    }

    /// <summary>
    /// Writes one packet (header + data) into guest receive buffers: one chain, or with MRG_RXBUF as many heads as
    /// it needs. Takes heads from the avail ring (<paramref name="left"/> of them are available) and writes their
    /// used elements, unpublished.
    /// </summary>
    private SplitRxOutcome PlacePacket(Mbuf packet, ref uint left, out uint payload)
    {
        payload = 0;
        VirtioNetHeader header = VirtioNetHeaderOps.RxHeader(1);
        ReadOnlySpan<byte> headerBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<VirtioNetHeader>(in header))[.._headerSize];

        if (left != 0 && TryPlaceSingle(packet, headerBytes, out payload))
        {
            left--;
            return SplitRxOutcome.Delivered;
        }

        // Each attempt starts at a fresh head; a fault returns the attempt's heads with length 0 and starts over.
        // Every pass takes at least one head, so this ends when the avail ring runs out at the latest.
        while (true)
        {
            SplitRxOutcome outcome = TryPlaceOnce(packet, headerBytes, ref left, ref payload);
            if (outcome != SplitRxOutcome.Retry)
            {
                return outcome;
            }

            if (--_faultBudget < 0)
            {
                return SplitRxOutcome.NoBuffers; // enough malformed chains for one burst: the rest waits for the next call
            }
        }
    }

    /// <summary>
    /// The common receive case, done without the chain walker: a one-segment packet and, at the head of the avail
    /// ring, one direct device-writable descriptor (no NEXT or INDIRECT) long enough for the header and the packet,
    /// inside one region. The descriptor is read once and only that copy is used. False, with nothing written or
    /// consumed, for anything else, which <see cref="TryPlaceOnce"/> then handles from the start.
    /// </summary>
    /// <remarks>
    /// The guest read this buffer's frame lines the last time the buffer served, so it still holds them, and an
    /// ordinary store waits until the guest's copy is invalidated: one cross-core round trip per line, which stores
    /// do not overlap well. When the guest keeps at least half its ring posted (<see cref="_streamFrames"/>) it is
    /// keeping up and this core is the one the traffic waits for, so whole lines go in with streaming stores, which do
    /// not wait, and the guest reads them from memory. When fewer are posted the guest is the slow side, and ordinary
    /// stores leave the lines where its reads find them sooner. docs/performance.md has the measurements (host to
    /// guest 1.5 to 3.7 times the packet rate, the round trip within about 2 %).
    /// </remarks>
    private bool TryPlaceSingle(Mbuf packet, ReadOnlySpan<byte> headerBytes, out uint payload)
    {
        payload = 0;
        uint length = packet.PacketLength;
        if (packet.SegmentCount != 1 || packet.DataLength != length)
        {
            return false;
        }

        ushort head = _ring.ReadAvailEntry(_lastAvail);
        uint total = (uint)headerBytes.Length + length;
        if (!_ring.DescTable.TryRead(head, out VirtqDesc desc)
            || desc.Flags != (ushort)VirtqDescFlags.Write
            || desc.Len < total
            || !_memory.TryTranslateGuestPhysical(desc.Addr, total, out nint host))
        {
            return false;
        }

        Span<byte> target = SplitRingView.GuestBytes(host, (int)total);
        if (!target[..headerBytes.Length].SequenceEqual(headerBytes))
        {
            // A buffer that served before usually still holds the header we wrote then (num_buffers 1, the rest
            // zero; a driver that pushes transmit headers leaves num_buffers as DPDK's and ours do): left as it is,
            // the guest's copy of the line stays valid and neither side stores to it (DPDK: ASSIGN_UNLESS_EQUAL).
            PacketCopy.Copy(headerBytes, target);
        }

        Span<byte> frame = target[headerBytes.Length..];
        if (!_streamFrames)
        {
            PacketCopy.Copy(packet.Data, frame);
        }
        else if (PacketCopy.CopyStreaming(packet.Data, frame))
        {
            _streamed = true;
            Stats.StreamedPackets++;
        }

        _log?.MarkDirty(desc.Addr, total);
        _ring.WriteUsedElem(_usedIdx++, head, total);
        _lastAvail++;
        payload = length;
        return true;
    }

    /// <summary>One attempt of <see cref="PlacePacket"/>.</summary>
    private SplitRxOutcome TryPlaceOnce(Mbuf packet, ReadOnlySpan<byte> headerBytes, ref uint left, ref uint payload)
    {
        const int NumBuffersOffset = VirtioNetHeader.LegacySize; // num_buffers: bytes 10 and 11 of the 12-byte header
        bool hasNumBuffers = headerBytes.Length == VirtioNetHeader.Size;
        ushort attemptAvail = _lastAvail;
        ushort attemptUsed = _usedIdx;
        ulong need = (ulong)headerBytes.Length + packet.PacketLength;
        ulong written = 0;
        int heads = 0;
        nint numBuffersLow = 0;
        nint numBuffersHigh = 0;
        var cursor = new SplitRxCursor(packet);
        while (true)
        {
            if (left == 0)
            {
                // No (more) buffers: nothing of this attempt is consumed; the bytes already written stay unpublished.
                left += (ushort)(_lastAvail - attemptAvail);
                _lastAvail = attemptAvail;
                _usedIdx = attemptUsed;
                return SplitRxOutcome.NoBuffers;
            }

            ushort headAvail = _lastAvail;
            ushort head = _ring.ReadAvailEntry(headAvail);
            _lastAvail++;
            left--;

            var walker = new SplitChainWalker(_ring.DescTable, _memory, _indirect, deviceWritable: true, uint.MaxValue, head);
            uint headWritten = 0;
            SplitWalkStep step;
            while ((step = walker.Next(out SplitBuffer buffer)) == SplitWalkStep.Buffer)
            {
                if (written == need)
                {
                    continue; // the packet is in; the rest of the chain is still validated
                }

                int take = (int)Math.Min(buffer.Length, need - written);
                int headerBefore = cursor.HeaderDone;
                int n = cursor.Fill(SplitRingView.GuestBytes(buffer.HostAddr, take), headerBytes, _streamFrames);
                _streamed |= cursor.Streamed; // fenced before publishing even if this attempt fails
                if (hasNumBuffers)
                {
                    // Header byte k went to buffer offset k - headerBefore (the header is written first).
                    if (headerBefore <= NumBuffersOffset && cursor.HeaderDone > NumBuffersOffset)
                    {
                        numBuffersLow = buffer.HostAddr + (NumBuffersOffset - headerBefore);
                    }

                    if (headerBefore <= NumBuffersOffset + 1 && cursor.HeaderDone > NumBuffersOffset + 1)
                    {
                        numBuffersHigh = buffer.HostAddr + (NumBuffersOffset + 1 - headerBefore);
                    }
                }

                _log?.MarkDirty(buffer.GuestPhysAddr, (ulong)n);
                written += (uint)n;
                headWritten += (uint)n;
                if (n < take)
                {
                    need = written; // the mbuf chain holds fewer bytes than its packet length says
                }
            }

            VhostQueueFault fault = VhostQueueFault.None;
            uint faultIndex = head;
            if (step == SplitWalkStep.Fault)
            {
                fault = walker.Fault;
                faultIndex = walker.FaultIndex;
            }
            else if (walker.TotalLength < (ulong)headerBytes.Length)
            {
                fault = VhostQueueFault.HeaderTooShort;
            }

            if (fault != VhostQueueFault.None)
            {
                Stats.Fault(fault, faultIndex);
                for (int i = 0; i < heads; i++)
                {
                    _ring.WriteUsedElem((ushort)(attemptUsed + i), _attemptHeads[i], 0);
                }

                _ring.WriteUsedElem(_usedIdx++, head, 0);
                return SplitRxOutcome.Retry;
            }

            if (!_mergeable && written < need)
            {
                // Too long for this chain: drop the packet, leave the head for the next one.
                _lastAvail = headAvail;
                left++;
                return SplitRxOutcome.Dropped;
            }

            _ring.WriteUsedElem(_usedIdx++, head, headWritten);
            if (_mergeable)
            {
                _attemptHeads[heads] = head;
            }

            heads++;
            if (written == need)
            {
                if (heads > 1 && numBuffersLow != 0 && numBuffersHigh != 0)
                {
                    SplitRingView.GuestBytes(numBuffersLow, 1)[0] = (byte)heads;
                    SplitRingView.GuestBytes(numBuffersHigh, 1)[0] = (byte)(heads >> 8);
                }

                payload = (uint)(written - (ulong)headerBytes.Length);
                if (cursor.Streamed)
                {
                    Stats.StreamedPackets++;
                }

                return SplitRxOutcome.Delivered;
            }
        }
    }

    /// <summary>Publishes the used elements written since <paramref name="oldUsed"/>, logs them, and interrupts the guest if it wants that.</summary>
    private void Publish(ushort oldUsed)
    {
        ushort newUsed = _usedIdx;
        if (newUsed == oldUsed)
        {
            return;
        }

        _ring.WriteUsedIdx(newUsed);
        if (_usedLog is not null)
        {
            // At most one ring's worth per burst: the elements in one or two pieces, then idx.
            uint count = (ushort)(newUsed - oldUsed);
            uint start = oldUsed & (_size - 1);
            uint first = Math.Min(count, _size - start);
            _usedLog.MarkDirty(_usedGuestAddr + SplitVirtqueueLayout.UsedRingEntryOffset(start), (ulong)first * VirtqUsedElem.Size);
            if (count > first)
            {
                _usedLog.MarkDirty(_usedGuestAddr + SplitVirtqueueLayout.UsedRingEntryOffset(0), (ulong)(count - first) * VirtqUsedElem.Size);
            }

            _usedLog.MarkDirty(_usedGuestAddr + 2, 2);
        }

        NotifyGuest(newUsed);
    }

    private void NotifyGuest(ushort newUsed)
    {
        if (_call is null)
        {
            return;
        }

        // The used->idx store must be visible before we look at the guest's suppression fields (smp_mb in
        // vhost_vring_call_split), or a guest that just re-enabled interrupts could miss one.
        Interlocked.MemoryBarrier();
        bool signal;
        if (_eventIdx)
        {
            ushort usedEvent = _ring.ReadUsedEvent();
            signal = !_signalledUsedValid || NeedEvent(usedEvent, newUsed, _signalledUsed);
            _signalledUsed = newUsed;
            _signalledUsedValid = true;
        }
        else
        {
            signal = (_ring.ReadAvailFlags() & VirtqAvailHeader.FlagNoInterrupt) == 0;
        }

        if (signal && _call.Signal().IsSuccess)
        {
            Stats.GuestNotifications++;
        }
    }
}
