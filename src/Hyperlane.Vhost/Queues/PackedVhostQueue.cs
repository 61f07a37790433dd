using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// The backend (device) side of a packed virtqueue (virtio 1.2 §2.8 "Packed Virtqueues", VIRTIO_F_RING_PACKED) of a
/// virtio-net device (§5.1.6): <see cref="Dequeue"/> for a transmitq, <see cref="Enqueue"/> for a receiveq.
/// </summary>
/// <remarks>
/// <para><b>Rings.</b> The descriptor ring (size × 16 bytes at DescUserAddr), the driver event suppression area
/// (AvailUserAddr) and the device event suppression area (UsedUserAddr) are translated whole once, in
/// <see cref="TryCreate"/>. The device area is set to RING_EVENT_FLAGS_DISABLE: the backend polls, so the driver
/// need not kick. SET_VRING_BASE carries the next avail index in bits 0..14 and the driver wrap counter in bit 15
/// (DPDK's convention); the used index and used wrap counter start equal to them, and stay equal to them after
/// every call: chains are used in the order they were made available, each as soon as it is done.</para>
/// <para><b>Available descriptors.</b> A descriptor is available when its AVAIL bit equals the avail wrap counter
/// and its USED bit does not (§2.8.1). Its flags are read once with acquire ordering, then addr, len and id once
/// each into a local copy; only that copy is validated and used (hardening.md VU-12). A chain follows NEXT to the
/// next ring slot (wrapping, with the wrap counter) for at most size descriptors; every descriptor after the first
/// must itself be available (the driver makes the first one available last, §2.8.6), else the chain is malformed
/// (<see cref="VhostQueueFault.ChainNotAvailable"/>) and ends before that slot. The buffer id is the last ring
/// descriptor's id (§2.8.6) and must be below the ring size.</para>
/// <para><b>Indirect tables</b> (§2.8.7), only with VIRTIO_F_INDIRECT_DESC: the descriptor must be the only one of
/// its chain (INDIRECT with NEXT, or INDIRECT after a NEXT: the driver MUST NOT, §2.8.19; counted
/// <see cref="VhostQueueFault.NestedIndirect"/>); its length a multiple of 16 from 16 to size × 16; the table is
/// translated whole into one region and each 16-byte entry is copied once. In an entry only WRITE counts: NEXT,
/// AVAIL, USED and id are reserved and ignored as the spec says (every entry of the table is an element), except
/// INDIRECT, which the driver MUST NOT set (§2.8.19) and which is rejected (<see cref="VhostQueueFault.NestedIndirect"/>,
/// hardening.md VU-10) rather than silently ignored. The WRITE bit of the descriptor that points at a table is
/// ignored (§2.8.7).</para>
/// <para><b>Elements.</b> Empty elements are skipped without being translated (CVE-2020-10725). Every other one
/// must lie wholly inside one region of the memory table (<see cref="GuestMemory.TryTranslateGuestPhysical"/>;
/// CVE-2018-1059); an element that crosses into a guest-adjacent region is refused as
/// <see cref="VhostQueueFault.AddressNotMapped"/> (hardening.md VU-09 allows "copy in pieces or drop"; the split
/// queue drops too). Lengths are summed in 64 bits; a transmit chain longer than the header plus
/// <see cref="Mbuf.MaxPacketLength"/> is <see cref="VhostQueueFault.LengthOverflow"/>. A device-writable element
/// in a transmitq chain, or a device-readable one in a receiveq chain, is
/// <see cref="VhostQueueFault.WrongDirection"/>.</para>
/// <para><b>Malformed chains</b> are walked to their end anyway (following NEXT within the same limits), so the
/// whole chain, and only it, is given back: a used descriptor with the chain's (last) id, length 0, and the used
/// index advanced by the chain's descriptor count. The fault is counted in <see cref="Stats"/>; the burst goes on.
/// A call examines at most one ring's worth of descriptors, so a guest that keeps refilling cannot keep the lcore.</para>
/// <para><b>Used descriptors</b> are written at the used index: len and id, then the flags (AVAIL = USED = used wrap
/// counter, plus WRITE when bytes were written, §2.8.3) with release ordering; the used index advances by the
/// chain's descriptor count, toggling the wrap counter when it passes the end. A receive packet spread over several
/// chains (MRG_RXBUF) has the used descriptor of its first chain published last (§2.8.9 "Multi-buffer requests").
/// With VIRTIO_F_IN_ORDER nothing changes: one used descriptor per chain, in ring order, is one of the ways an
/// in-order device may report use (it may, not must, batch them, §2.8.8).</para>
/// <para><b>Dirty log</b> (live migration): when <see cref="VirtqueueSetup.Log"/> is set, every byte written to a
/// guest buffer is marked by its guest-physical address; with <see cref="VirtqueueSetup.LogUsedRing"/> also every
/// used descriptor (16 bytes) and the device area write, at their own guest-physical addresses, derived from the
/// user addresses and the memory table. <see cref="VirtqueueSetup.UsedLogGuestAddr"/> is not used: QEMU sets
/// log_guest_addr to the used ring's address, which for a packed ring is the device event suppression area, not
/// the descriptor ring where used descriptors are written (DPDK logs log_guest_addr + index × 16, which then marks
/// the wrong pages).</para>
/// <para><b>Guest notifications</b> after a call that used anything, if there is a call eventfd, after a full fence
/// and one read of the driver area: without VIRTIO_F_EVENT_IDX, anything but DISABLE notifies (DESC and the reserved
/// value 3 included); with it, ENABLE (and 3) notify, DISABLE does not, and DESC notifies when the used
/// descriptors written since the last check cover the driver's offset and wrap counter (the packed form of
/// vring_need_event; the first check after setup always notifies).</para>
/// <para><b>Transmit</b>: the virtio-net header (12 bytes with VERSION_1 or MRG_RXBUF, else 10) may span
/// elements; it is copied out and, with VIRTIO_NET_F_CSUM, its offload requests are applied through
/// <see cref="VirtioNetHeaderOps.ApplyTxOffloads"/>. A chain no longer than the header carries no packet
/// (<see cref="VhostQueueFault.HeaderTooShort"/>, CVE-2022-2132). The payload goes into mbufs, chained when it
/// does not fit one. No mbufs: the burst stops and the chain stays in the ring (<see cref="VhostQueueStats.MbufShortages"/>);
/// a packet that would need more than <see cref="Mbuf.MaxSegments"/> mbufs of the pool is dropped
/// (<see cref="VhostQueueStats.Dropped"/>) and its chain given back.</para>
/// <para><b>Receive</b>: the header (num_buffers = chains used, 1 without MRG_RXBUF; nothing else set) and the packet
/// are written into device-writable chains; each chain must hold at least the header (§5.1.6.3.1, else
/// <see cref="VhostQueueFault.HeaderTooShort"/>). Without MRG_RXBUF a packet must fit one chain; when the next
/// good chain is too small the packet is dropped (<see cref="VhostQueueStats.Dropped"/>) and the chain is <b>not</b>
/// consumed: the next, maybe smaller, packet of the burst can use it (Linux vhost-net does this and so does the
/// split queue; DPDK stops the burst there instead). With MRG_RXBUF a packet takes as many chains as it needs; if the
/// ring runs out first, nothing of it is published and the chains stay available (bytes already copied into them
/// are simply overwritten later). A malformed chain met after a packet's first chain is given back together with
/// the chains the packet took before it (unused, length 0, in ring order), and the packet starts again from the
/// next chain: used descriptors then always follow the avail order (VIRTIO_F_IN_ORDER holds even for a hostile
/// ring) and a packet's buffers are adjacent in the used ring, as the driver reads them. Enqueue stops at the
/// first packet for which there are no buffers (left); see <see cref="Enqueue"/> for what it returns. The caller
/// keeps and frees every packet.</para>
/// <para>One lcore at a time may call <see cref="Dequeue"/>/<see cref="Enqueue"/>; they never allocate, lock or
/// throw.</para>
/// </remarks>
public sealed class PackedVhostQueue : IVhostQueue
{
    private const ushort FlagNext = (ushort)VirtqDescFlags.Next;
    private const ushort FlagWrite = (ushort)VirtqDescFlags.Write;
    private const ushort FlagIndirect = (ushort)VirtqDescFlags.Indirect;
    private const ushort FlagAvail = (ushort)VirtqDescFlags.Avail;
    private const ushort FlagUsed = (ushort)VirtqDescFlags.Used;

    /// <summary>SET/GET_VRING_BASE for packed rings: the index in bits 0..14.</summary>
    private const uint BaseIndexMask = 0x7FFF;

    /// <summary>SET/GET_VRING_BASE for packed rings: the wrap counter in bit 15.</summary>
    private const uint BaseWrapBit = 0x8000;

    private readonly PackedRingView _ring;
    private readonly PackedEventSuppressView _driverEvent;
    private readonly GuestMemory _memory;
    private readonly DirtyLog? _log;
    private readonly bool _logUsedRing;
    private readonly ulong _ringGuestPhysAddr;
    private readonly EventFd? _call;
    private readonly int _size;
    private readonly int _headerLength;
    private readonly bool _mergeable;
    private readonly bool _indirect;
    private readonly bool _eventIdx;
    private readonly bool _txChecksum;

    /// <summary>The elements of the chain being processed (at most one per ring descriptor or table entry: size).</summary>
    private readonly PackedSegment[] _segments;

    /// <summary>Receive: the elements of a packet's first chain that hold its header (written last).</summary>
    private readonly PackedSegment[] _headerSegments = new PackedSegment[VirtioNetHeader.Size];

    /// <summary>Transmit: the mbufs of the packet being built.</summary>
    private readonly Mbuf[] _mbufScratch = new Mbuf[Mbuf.MaxSegments];

    /// <summary>Dequeue's copy of a virtio-net header (a field, not stackalloc: the method stays eligible for tiering).</summary>
    private readonly byte[] _headerScratch = new byte[VirtioNetHeader.Size];

    /// <summary>Receive: the chains a packet took, in order (published once it is complete).</summary>
    private readonly PackedUsedElement[] _packetBuffers;

    private int _availIdx;
    private bool _availWrap;
    private int _usedIdx;
    private bool _usedWrap;
    private int _signalledPosition;
    private bool _signalledValid;

    private PackedVhostQueue(
        VirtqueueSetup setup, nint ring, nint driverEvent, nint deviceEvent, ulong ringGuestPhysAddr, ulong deviceEventGuestPhysAddr)
    {
        Index = setup.Index;
        _size = setup.Size;
        _ring = new PackedRingView(ring, _size);
        _driverEvent = new PackedEventSuppressView(driverEvent);
        _memory = setup.Memory;
        _log = setup.Log;
        _logUsedRing = setup.Log is not null && setup.LogUsedRing;
        _ringGuestPhysAddr = ringGuestPhysAddr;
        _call = setup.Call;

        ulong features = setup.Features;
        _headerLength = VirtioFeatures.NetHeaderSize(features);
        _mergeable = VirtioFeatures.IsSet(features, VirtioFeatures.NetMrgRxbuf);
        _indirect = VirtioFeatures.IsSet(features, VirtioFeatures.RingIndirectDesc);
        _eventIdx = VirtioFeatures.IsSet(features, VirtioFeatures.RingEventIdx);
        _txChecksum = VirtioFeatures.IsSet(features, VirtioFeatures.NetCsum);

        _segments = new PackedSegment[_size];
        _packetBuffers = new PackedUsedElement[_size];

        _availIdx = (int)(setup.Base & BaseIndexMask);
        _availWrap = (setup.Base & BaseWrapBit) != 0;
        _usedIdx = _availIdx;
        _usedWrap = _availWrap;

        // Poll mode: the driver need not send available buffer notifications (§2.8.10).
        new PackedEventSuppressView(deviceEvent).Write(0, PackedEventFlags.Disable);
        if (_logUsedRing)
        {
            _log!.MarkDirty(deviceEventGuestPhysAddr, VirtqPackedEventSuppress.Size);
        }
    }

    /// <inheritdoc/>
    public int Index { get; }

    /// <inheritdoc/>
    public VhostQueueStats Stats { get; } = new();

    /// <summary>Descriptors in the ring.</summary>
    public int Size => _size;

    /// <summary>
    /// Builds the queue from what the frontend set up. Checks: a memory table; size 1..32768 (any, not only
    /// powers of two); VIRTIO_F_RING_PACKED negotiated and VIRTIO_F_ACCESS_PLATFORM not (ring and buffer addresses
    /// would be IOVAs, and there is no IOTLB here); Base below 2^16 with its index (bits 0..14) below the size; the
    /// descriptor ring (size × 16 bytes) and both 4-byte event suppression areas each wholly inside one region, the
    /// ring 16-byte and the areas 4-byte aligned where we map them (§2.8.10.1; a torn flags read is not an option).
    /// Writes RING_EVENT_FLAGS_DISABLE into the device area. Never throws.
    /// </summary>
    /// <returns><see langword="true"/> with the queue; otherwise <see langword="false"/> and what is wrong.</returns>
    public static bool TryCreate(VirtqueueSetup setup, [NotNullWhen(true)] out PackedVhostQueue? queue, [NotNullWhen(false)] out string? error)
    {
        queue = null;
        if (setup is null)
        {
            error = "no virtqueue setup";
            return false;
        }

        GuestMemory? memory = setup.Memory;
        int size = setup.Size;
        if (memory is null)
        {
            error = $"vring {setup.Index}: no memory table";
            return false;
        }

        if (setup.Index < 0)
        {
            error = $"vring index {setup.Index} is negative";
            return false;
        }

        if (!PackedVirtqueueLayout.IsValidQueueSize((uint)size) || size <= 0)
        {
            error = $"vring {setup.Index}: size {size} is not 1..{PackedVirtqueueLayout.MaxQueueSize}";
            return false;
        }

        if (!VirtioFeatures.IsSet(setup.Features, VirtioFeatures.RingPacked))
        {
            error = $"vring {setup.Index}: VIRTIO_F_RING_PACKED is not negotiated";
            return false;
        }

        if (VirtioFeatures.IsSet(setup.Features, VirtioFeatures.AccessPlatform))
        {
            error = $"vring {setup.Index}: VIRTIO_F_ACCESS_PLATFORM (IOVA addresses) is not supported by this queue";
            return false;
        }

        if (setup.Base > ushort.MaxValue || (setup.Base & BaseIndexMask) >= (uint)size)
        {
            error = $"vring {setup.Index}: base 0x{setup.Base:X} (index {setup.Base & BaseIndexMask}, wrap {(setup.Base & BaseWrapBit) >> 15}) does not fit a ring of {size}";
            return false;
        }

        ulong ringLength = PackedVirtqueueLayout.DescRingSize((uint)size);
        if (!memory.TryTranslateUser(setup.DescUserAddr, ringLength, out nint ring)
            || !TryUserToGuestPhysical(memory, setup.DescUserAddr, ringLength, out ulong ringGuestPhysAddr))
        {
            error = $"vring {setup.Index}: descriptor ring [0x{setup.DescUserAddr:X}, +0x{ringLength:X}) is not inside one memory region";
            return false;
        }

        if (ring % PackedVirtqueueLayout.DescRingAlignment != 0)
        {
            error = $"vring {setup.Index}: descriptor ring 0x{setup.DescUserAddr:X} is not {PackedVirtqueueLayout.DescRingAlignment}-byte aligned";
            return false;
        }

        if (!TryTranslateEventArea(memory, setup.AvailUserAddr, out nint driverEvent, out _))
        {
            error = $"vring {setup.Index}: driver event suppression area 0x{setup.AvailUserAddr:X} is not 4 mapped, {PackedVirtqueueLayout.EventSuppressAlignment}-byte aligned bytes";
            return false;
        }

        if (!TryTranslateEventArea(memory, setup.UsedUserAddr, out nint deviceEvent, out ulong deviceEventGuestPhysAddr))
        {
            error = $"vring {setup.Index}: device event suppression area 0x{setup.UsedUserAddr:X} is not 4 mapped, {PackedVirtqueueLayout.EventSuppressAlignment}-byte aligned bytes";
            return false;
        }

        queue = new PackedVhostQueue(setup, ring, driverEvent, deviceEvent, ringGuestPhysAddr, deviceEventGuestPhysAddr);
        error = null;
        return true;
    }

    /// <inheritdoc/>
    public int Dequeue(Mempool pool, Span<Mbuf> packets)
    {
        if (pool is null || packets.IsEmpty)
        {
            return 0;
        }

        // Bytes one fresh mbuf takes: its data room after the default headroom (Mbuf.Reset).
        int room = pool.DataRoomSize - Math.Min(MbufHeader.DefaultHeadroom, (int)pool.DataRoomSize);
        if (room <= 0)
        {
            return 0;
        }

        Span<Mbuf> mbufs = _mbufScratch;
        Span<byte> header = _headerScratch.AsSpan(0, _headerLength);
        ulong maxLength = (ulong)_headerLength + Mbuf.MaxPacketLength;
        int count = 0;
        int budget = _size;
        bool usedAny = false;
        while (count < packets.Length && budget > 0)
        {
            int head = _availIdx;
            ushort flags = _ring.ReadFlags(head);
            if (!IsAvailable(flags, _availWrap))
            {
                break;
            }

            WalkChain(head, _availWrap, flags, deviceWritable: false, maxLength, out PackedChain chain);
            budget -= chain.Descriptors;
            if (chain.Fault == VhostQueueFault.None && chain.Length <= (ulong)_headerLength)
            {
                chain.Fault = VhostQueueFault.HeaderTooShort;
                chain.FaultIndex = head;
            }

            if (chain.Fault != VhostQueueFault.None)
            {
                Stats.Fault(chain.Fault, chain.FaultIndex);
                GiveBack(chain.Id, chain.Descriptors);
                usedAny = true;
                continue;
            }

            int payload = (int)chain.Length - _headerLength;
            int needed = (payload + room - 1) / room;
            if (needed > Mbuf.MaxSegments)
            {
                Stats.Dropped++;
                GiveBack(chain.Id, chain.Descriptors);
                usedAny = true;
                continue;
            }

            Span<Mbuf> segments = mbufs[..needed];
            if (pool.AllocBulk(segments) == 0)
            {
                Stats.MbufShortages++;
                break;
            }

            CopyChainToMbufs(chain.Segments, header, segments, payload, room);
            Mbuf packet = segments[0];
            if (_txChecksum)
            {
                VirtioNetHeader parsed = default;
                header.CopyTo(MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref parsed)));
                VirtioNetHeaderOps.ApplyTxOffloads(in parsed, packet);
            }

            packets[count++] = packet;
            Stats.Packets++;
            Stats.Bytes += payload;
            GiveBack(chain.Id, chain.Descriptors);
            usedAny = true;
        }

        if (usedAny)
        {
            NotifyGuest();
        }

        return count;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Returns how many packets, from the start, the queue is done with: delivered, or dropped because (without
    /// VIRTIO_NET_F_MRG_RXBUF) they are longer than the chain they would have to fit, or null. It stops at the first
    /// packet for which the ring has no buffers (left). <see cref="VhostQueueStats.Dropped"/> counts every packet
    /// not delivered, so Packets + Dropped grows by exactly <paramref name="packets"/>.Length per call (as the split
    /// queue does).
    /// </remarks>
    public int Enqueue(ReadOnlySpan<Mbuf> packets)
    {
        int budget = _size;
        bool usedAny = false;
        int done = 0;
        for (; done < packets.Length; done++)
        {
            Mbuf packet = packets[done];
            PackedRxOutcome outcome = packet.IsNull ? PackedRxOutcome.TooLong : EnqueueOne(packet, ref budget, ref usedAny);
            if (outcome == PackedRxOutcome.NoBuffers)
            {
                break;
            }

            if (outcome == PackedRxOutcome.TooLong)
            {
                Stats.Dropped++;
            }
        }

        Stats.Dropped += packets.Length - done;
        if (usedAny)
        {
            NotifyGuest();
        }

        return done;
    }

    /// <inheritdoc/>
    public uint GetBase() => (uint)_availIdx | (_availWrap ? BaseWrapBit : 0);

    /// <summary>The guest-physical address of [<paramref name="userAddr"/>, + <paramref name="length"/>) when it lies inside one region.</summary>
    private static bool TryUserToGuestPhysical(GuestMemory memory, ulong userAddr, ulong length, out ulong guestPhysAddr)
    {
        ReadOnlySpan<GuestMemoryRegion> regions = memory.Regions;
        for (int i = 0; i < regions.Length; i++)
        {
            if (AddressRange.Contains(regions[i].UserAddr, regions[i].Size, userAddr, length, out ulong offset))
            {
                guestPhysAddr = regions[i].GuestPhysAddr + offset;
                return true;
            }
        }

        guestPhysAddr = 0;
        return false;
    }

    private static bool TryTranslateEventArea(GuestMemory memory, ulong userAddr, out nint host, out ulong guestPhysAddr)
    {
        guestPhysAddr = 0;
        return memory.TryTranslateUser(userAddr, VirtqPackedEventSuppress.Size, out host)
            && host % PackedVirtqueueLayout.EventSuppressAlignment == 0
            && TryUserToGuestPhysical(memory, userAddr, VirtqPackedEventSuppress.Size, out guestPhysAddr);
    }

    /// <summary>§2.8.1: AVAIL equals the wrap counter and USED does not.</summary>
    private static bool IsAvailable(ushort flags, bool wrap) =>
        ((flags & FlagAvail) != 0) == wrap && ((flags & FlagUsed) != 0) != wrap;

    private void Advance(ref int index, ref bool wrap, int descriptors)
    {
        index += descriptors;
        if (index >= _size)
        {
            index -= _size;
            wrap = !wrap;
        }
    }

    /// <summary>
    /// Walks the chain whose first descriptor is at <paramref name="head"/> (found available, with
    /// <paramref name="headFlags"/>), storing its elements in <see cref="_segments"/>. A malformed chain is still
    /// followed to its end (its descriptor count and id are needed to give it back), without using anything more.
    /// </summary>
    private void WalkChain(int head, bool headWrap, ushort headFlags, bool deviceWritable, ulong maxLength, out PackedChain chain)
    {
        chain = default;
        int index = head;
        bool wrap = headWrap;
        ushort flags = headFlags;
        int last;
        while (true)
        {
            VirtqPackedDesc desc = _ring.Read(index, flags);
            chain.Descriptors++;
            chain.Id = desc.Id;
            last = index;
            if (chain.Fault == VhostQueueFault.None)
            {
                VhostQueueFault fault = (flags & FlagIndirect) != 0
                    ? AddIndirect(in desc, chain.Descriptors == 1, deviceWritable, maxLength, ref chain)
                    : AddElement(in desc, deviceWritable, maxLength, ref chain);
                if (fault != VhostQueueFault.None)
                {
                    chain.Fault = fault;
                    chain.FaultIndex = index;
                }
            }

            if ((flags & FlagNext) == 0)
            {
                break;
            }

            if (chain.Descriptors == _size)
            {
                if (chain.Fault == VhostQueueFault.None)
                {
                    chain.Fault = VhostQueueFault.ChainTooLong;
                    chain.FaultIndex = index;
                }

                break;
            }

            if (++index == _size)
            {
                index = 0;
                wrap = !wrap;
            }

            flags = _ring.ReadFlags(index);
            if (!IsAvailable(flags, wrap))
            {
                if (chain.Fault == VhostQueueFault.None)
                {
                    chain.Fault = VhostQueueFault.ChainNotAvailable;
                    chain.FaultIndex = index;
                }

                break;
            }
        }

        if (chain.Fault == VhostQueueFault.None && chain.Id >= _size)
        {
            chain.Fault = VhostQueueFault.BadBufferId;
            chain.FaultIndex = last;
        }
    }

    /// <summary>A direct element (a ring descriptor or an indirect table entry): direction, then length and address.</summary>
    private VhostQueueFault AddElement(in VirtqPackedDesc desc, bool deviceWritable, ulong maxLength, ref PackedChain chain)
    {
        if (((desc.Flags & FlagWrite) != 0) != deviceWritable)
        {
            return VhostQueueFault.WrongDirection;
        }

        uint length = desc.Len;
        if (length == 0)
        {
            return VhostQueueFault.None;
        }

        chain.Length += length;
        if (chain.Length > maxLength)
        {
            return VhostQueueFault.LengthOverflow;
        }

        if (chain.Segments == _segments.Length)
        {
            return VhostQueueFault.ChainTooLong;
        }

        if (!_memory.TryTranslateGuestPhysical(desc.Addr, length, out nint host))
        {
            return VhostQueueFault.AddressNotMapped;
        }

        _segments[chain.Segments++] = new PackedSegment(desc.Addr, host, length);
        return VhostQueueFault.None;
    }

    /// <summary>A ring descriptor with INDIRECT: checks the table, then adds every entry of it as an element.</summary>
    private VhostQueueFault AddIndirect(in VirtqPackedDesc desc, bool first, bool deviceWritable, ulong maxLength, ref PackedChain chain)
    {
        if (!_indirect)
        {
            return VhostQueueFault.BadIndirectTable;
        }

        if (!first || (desc.Flags & FlagNext) != 0)
        {
            return VhostQueueFault.NestedIndirect;
        }

        uint tableLength = desc.Len;
        if (tableLength == 0 || tableLength % VirtqPackedDesc.Size != 0 || tableLength > (uint)_size * VirtqPackedDesc.Size
            || !_memory.TryTranslateGuestPhysical(desc.Addr, tableLength, out nint table))
        {
            return VhostQueueFault.BadIndirectTable;
        }

        int entries = (int)(tableLength / VirtqPackedDesc.Size);
        for (int i = 0; i < entries; i++)
        {
            VirtqPackedDesc entry = PackedRingView.ReadTableEntry(table, i);
            if ((entry.Flags & FlagIndirect) != 0)
            {
                return VhostQueueFault.NestedIndirect;
            }

            if (!deviceWritable && (entry.Flags & FlagWrite) != 0)
            {
                // DPDK's virtio_user sets WRITE on every packed indirect entry, Tx ones included: reading such a
                // buffer is safe (nothing is written into it), so it is tolerated on dequeue, and counted.
                entry.Flags = (ushort)(entry.Flags & ~FlagWrite);
                Stats.IndirectWriteFlagsIgnored++;
            }

            VhostQueueFault fault = AddElement(in entry, deviceWritable, maxLength, ref chain);
            if (fault != VhostQueueFault.None)
            {
                return fault;
            }
        }

        return VhostQueueFault.None;
    }

    /// <summary>Transmit: the header into <paramref name="header"/>, then <paramref name="payload"/> bytes into the mbufs, chained.</summary>
    private void CopyChainToMbufs(int elementCount, Span<byte> header, Span<Mbuf> mbufs, int payload, int room)
    {
        int element = 0;
        uint offset = 0;
        ReadGuest(elementCount, ref element, ref offset, header);
        int remaining = payload;
        for (int i = 0; i < mbufs.Length; i++)
        {
            Mbuf m = mbufs[i];
            int n = Math.Min(room, remaining);
            m.DataLength = (ushort)n;
            m.PacketLength = (uint)n;
            ReadGuest(elementCount, ref element, ref offset, m.Data);
            remaining -= n;
            if (i > 0)
            {
                mbufs[i - 1].Header.Next = m.Pointer;
            }
        }

        Debug.Assert(remaining == 0);
        Mbuf first = mbufs[0];
        first.PacketLength = (uint)payload;
        first.Header.NbSegs = (ushort)mbufs.Length;
    }

    /// <summary>Copies the next <paramref name="destination"/>.Length bytes of the chain's elements, advancing the cursor.</summary>
    private void ReadGuest(int elementCount, ref int element, ref uint offset, Span<byte> destination)
    {
        while (!destination.IsEmpty && element < elementCount)
        {
            PackedSegment s = _segments[element];
            int n = (int)Math.Min((uint)destination.Length, s.Length - offset);
            PacketCopy.Copy(PackedGuestBytes.At(s.HostAddr + (nint)offset, n), destination);
            destination = destination[n..];
            offset += (uint)n;
            if (offset == s.Length)
            {
                element++;
                offset = 0;
            }
        }
    }

    /// <summary>Copies <paramref name="source"/> into the next bytes of <paramref name="elements"/>, advancing the cursor, and logs them.</summary>
    private void WriteGuest(PackedSegment[] elements, int elementCount, ref int element, ref uint offset, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty && element < elementCount)
        {
            PackedSegment s = elements[element];
            int n = (int)Math.Min((uint)source.Length, s.Length - offset);
            PacketCopy.Copy(source[..n], PackedGuestBytes.At(s.HostAddr + (nint)offset, n));
            _log?.MarkDirty(s.GuestPhysAddr + offset, (ulong)n);
            source = source[n..];
            offset += (uint)n;
            if (offset == s.Length)
            {
                element++;
                offset = 0;
            }
        }
    }

    /// <summary>
    /// Receive: places one packet (its used descriptors published when <see cref="PackedRxOutcome.Delivered"/>).
    /// Otherwise nothing of it is published and the avail index is where the packet started, except that malformed
    /// chains (with the chains taken before them) have been given back.
    /// </summary>
    private PackedRxOutcome EnqueueOne(Mbuf packet, ref int budget, ref bool usedAny)
    {
        ulong packetLength = 0;
        int mbufSegments = 0;
        for (Mbuf m = packet; !m.IsNull && mbufSegments < Mbuf.MaxSegments; m = m.Next)
        {
            packetLength += m.DataLength;
            mbufSegments++;
        }

        ulong need = (ulong)_headerLength + packetLength;
        int index = _availIdx;
        bool wrap = _availWrap;
        int buffers = 0;
        int headerElements = 0;
        ulong placed = 0;
        Mbuf source = packet;
        int sourceOffset = 0;
        while (placed < need)
        {
            if (budget <= 0)
            {
                return PackedRxOutcome.NoBuffers;
            }

            int head = index;
            ushort flags = _ring.ReadFlags(head);
            if (!IsAvailable(flags, wrap))
            {
                return PackedRxOutcome.NoBuffers;
            }

            WalkChain(head, wrap, flags, deviceWritable: true, ulong.MaxValue, out PackedChain chain);
            budget -= chain.Descriptors;
            Advance(ref index, ref wrap, chain.Descriptors);
            if (chain.Fault == VhostQueueFault.None && chain.Length < (ulong)_headerLength)
            {
                chain.Fault = VhostQueueFault.HeaderTooShort;
                chain.FaultIndex = head;
            }

            if (chain.Fault != VhostQueueFault.None)
            {
                // Give back, in ring order, the chains this packet took so far (unused) and the malformed one, and
                // start the packet again from the next chain: used descriptors stay in avail order (IN_ORDER holds)
                // and a packet's buffers stay adjacent in the used ring.
                Stats.Fault(chain.Fault, chain.FaultIndex);
                for (int i = 0; i < buffers; i++)
                {
                    PackedUsedElement taken = _packetBuffers[i];
                    Publish(WriteUsed(taken.Id, 0, taken.Descriptors, out ushort takenFlags), takenFlags);
                }

                Publish(WriteUsed(chain.Id, 0, chain.Descriptors, out ushort flagsBack), flagsBack);
                _availIdx = index;
                _availWrap = wrap;
                usedAny = true;
                buffers = 0;
                placed = 0;
                source = packet;
                sourceOffset = 0;
                continue;
            }

            if (!_mergeable && chain.Length < need)
            {
                return PackedRxOutcome.TooLong; // does not fit the one chain it may use; the chain stays available
            }

            ulong take = Math.Min(chain.Length, need - placed);
            int element = 0;
            uint offset = 0;
            ulong payloadTake = take;
            if (buffers == 0)
            {
                headerElements = KeepHeaderElements(chain.Segments, ref element, ref offset);
                payloadTake -= (ulong)_headerLength;
            }

            WritePayload(chain.Segments, ref element, ref offset, ref source, ref sourceOffset, payloadTake);
            placed += take;
            _packetBuffers[buffers++] = new PackedUsedElement(chain.Id, chain.Descriptors, (uint)take);
        }

        // Complete: the header (num_buffers now known), then the used descriptors, the first chain's flags last.
        VirtioNetHeader header = VirtioNetHeaderOps.RxHeader((ushort)buffers);
        ReadOnlySpan<byte> headerBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<VirtioNetHeader>(in header))[.._headerLength];
        int headerElement = 0;
        uint headerOffset = 0;
        WriteGuest(_headerSegments, headerElements, ref headerElement, ref headerOffset, headerBytes);

        PackedUsedElement first = _packetBuffers[0];
        int firstPosition = WriteUsed(first.Id, first.Length, first.Descriptors, out ushort firstFlags);
        for (int i = 1; i < buffers; i++)
        {
            PackedUsedElement b = _packetBuffers[i];
            Publish(WriteUsed(b.Id, b.Length, b.Descriptors, out ushort f), f);
        }

        Publish(firstPosition, firstFlags);
        _availIdx = index;
        _availWrap = wrap;
        Debug.Assert(_availIdx == _usedIdx && _availWrap == _usedWrap);
        usedAny = true;
        Stats.Packets++;
        Stats.Bytes += (long)packetLength;
        return PackedRxOutcome.Delivered;
    }

    /// <summary>Receive: remembers the elements that hold the header and moves the cursor past it.</summary>
    private int KeepHeaderElements(int elementCount, ref int element, ref uint offset)
    {
        int kept = 0;
        uint left = (uint)_headerLength;
        while (left > 0 && element < elementCount)
        {
            PackedSegment s = _segments[element];
            _headerSegments[kept++] = s;
            uint n = Math.Min(left, s.Length);
            left -= n;
            offset = n;
            if (offset == s.Length)
            {
                element++;
                offset = 0;
            }
        }

        return kept;
    }

    /// <summary>Receive: copies <paramref name="count"/> bytes of the packet from the mbuf cursor into the chain's elements.</summary>
    private void WritePayload(int elementCount, ref int element, ref uint offset, ref Mbuf source, ref int sourceOffset, ulong count)
    {
        while (count > 0)
        {
            while (!source.IsNull && sourceOffset == source.DataLength)
            {
                source = source.Next;
                sourceOffset = 0;
            }

            if (source.IsNull)
            {
                Debug.Fail("the packet ended before its length");
                return;
            }

            ReadOnlySpan<byte> from = source.Data[sourceOffset..];
            int n = (int)Math.Min((ulong)from.Length, count);
            WriteGuest(_segments, elementCount, ref element, ref offset, from[..n]);
            sourceOffset += n;
            count -= (ulong)n;
        }
    }

    /// <summary>Gives a whole chain back at once (used, with its id and length 0; nothing written) and moves past it.</summary>
    private void GiveBack(ushort id, int descriptors)
    {
        Publish(WriteUsed(id, 0, descriptors, out ushort flags), flags);
        Advance(ref _availIdx, ref _availWrap, descriptors);
    }

    /// <summary>
    /// Writes len and id of a used descriptor at the used index and advances the used index by the chain's
    /// <paramref name="descriptors"/>. Returns the position; <paramref name="flags"/> is what <see cref="Publish"/> stores there.
    /// </summary>
    private int WriteUsed(ushort id, uint length, int descriptors, out ushort flags)
    {
        int position = _usedIdx;
        flags = _usedWrap ? (ushort)(FlagAvail | FlagUsed) : (ushort)0;
        if (length != 0)
        {
            flags |= FlagWrite;
        }

        _ring.WriteIdLen(position, id, length);
        Advance(ref _usedIdx, ref _usedWrap, descriptors);
        return position;
    }

    /// <summary>Makes the used descriptor at <paramref name="position"/> visible (release), then logs it.</summary>
    private void Publish(int position, ushort flags)
    {
        _ring.PublishFlags(position, flags);
        if (_logUsedRing)
        {
            _log!.MarkDirty(_ringGuestPhysAddr + ((ulong)position * VirtqPackedDesc.Size), VirtqPackedDesc.Size);
        }
    }

    /// <summary>A used ring position in the two-lap space the wrap counter distinguishes (wrap 1 = first lap).</summary>
    private int Position(int index, bool wrap) => wrap ? index : index + _size;

    /// <summary>Sends a used buffer notification if the driver event suppression area allows it (§2.8.10, §2.8.14).</summary>
    private void NotifyGuest()
    {
        EventFd? call = _call;
        if (call is null)
        {
            return;
        }

        // The used flags must be visible before we read the driver's wish, or a driver that enables events just
        // after its last check of the ring would wait forever (the store-load race §2.8.22 warns of).
        Interlocked.MemoryBarrier();
        VirtqPackedEventSuppress driver = _driverEvent.Read();
        PackedEventFlags mode = driver.EventFlags;
        bool notify;
        if (!_eventIdx)
        {
            notify = mode != PackedEventFlags.Disable;
        }
        else
        {
            int now = Position(_usedIdx, _usedWrap);
            int old = _signalledPosition;
            bool valid = _signalledValid;
            _signalledPosition = now;
            _signalledValid = true;
            if (mode != PackedEventFlags.Desc)
            {
                notify = mode != PackedEventFlags.Disable;
            }
            else if (!valid)
            {
                notify = true;
            }
            else
            {
                // Notify when the descriptor the driver named lies among those used since the last check:
                // event ∈ [old, now) on the two-lap circle (vring_need_event for packed rings).
                int laps = 2 * _size;
                int target = Position(driver.EventOffset, driver.EventWrap);
                notify = Modulo(target - old, laps) < Modulo(now - old, laps);
            }
        }

        if (notify && call.Signal(1).IsSuccess)
        {
            Stats.GuestNotifications++;
        }
    }

    private static int Modulo(int value, int modulus)
    {
        int r = value % modulus;
        return r < 0 ? r + modulus : r;
    }
}
