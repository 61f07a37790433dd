using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// Walks one descriptor chain of a split virtqueue from its head (virtio 1.2 §2.7.5 "The Virtqueue Descriptor
/// Table", §2.7.5.3 "Indirect Descriptors"), yielding each buffer once it is validated and translated. Every
/// descriptor is copied once into a local and only that copy is used (hardening.md VU-12). A malformed chain
/// stops the walk with a <see cref="VhostQueueFault"/>; nothing read from the guest can make it loop, read
/// outside the tables or hand out an unmapped address.
/// </summary>
/// <remarks>
/// <para>Rules, in the order they are checked for each descriptor:</para>
/// <list type="number">
/// <item>The index (the head, a next field) is below the table's entry count: else
/// <see cref="VhostQueueFault.DescriptorIndexOutOfRange"/> (fault index = the bad index).</item>
/// <item>At most queue-size descriptors in the descriptor table, and at most the entry count inside an indirect
/// table (each counted separately): else <see cref="VhostQueueFault.ChainTooLong"/> (a loop; §2.7.5.2 "A driver
/// MUST NOT create a descriptor chain longer than the Queue Size").</item>
/// <item>VIRTQ_DESC_F_INDIRECT: not inside an indirect table and not with NEXT (§2.7.5.3.1) — else
/// <see cref="VhostQueueFault.NestedIndirect"/>; VIRTIO_F_INDIRECT_DESC negotiated, length a non-zero multiple of
/// 16 and at most queue size × 16 bytes (DPDK's bound: a table never describes more buffers than the ring could),
/// the table wholly inside one region — else <see cref="VhostQueueFault.BadIndirectTable"/>. Its WRITE flag is
/// ignored (§2.7.5.3.2). It may end a chain of direct descriptors ("zero or more normal chained descriptors
/// followed by a single descriptor with flags &amp; VIRTQ_DESC_F_INDIRECT").</item>
/// <item>Direction: device-writable exactly when the walker was made for a receive chain: else
/// <see cref="VhostQueueFault.WrongDirection"/>.</item>
/// <item>Length 0: skipped without looking at the address (CVE-2020-10725).</item>
/// <item>The running sum of lengths (in 64 bits) stays within the caller's maximum: else
/// <see cref="VhostQueueFault.LengthOverflow"/>.</item>
/// <item>[addr, addr + len) lies wholly inside one guest memory region: else
/// <see cref="VhostQueueFault.AddressNotMapped"/> (CVE-2018-1059; a buffer over two guest-adjacent regions is
/// refused, not split).</item>
/// </list>
/// </remarks>
internal struct SplitChainWalker
{
    private readonly GuestMemory _memory;
    private readonly uint _queueSize;
    private readonly bool _indirectAllowed;
    private readonly bool _deviceWritable;
    private readonly ulong _maxTotal;
    private SplitDescTableView _table;
    private uint _next;
    private uint _hops;
    private uint _hopLimit;
    private bool _hasNext;
    private bool _inIndirect;
    private ulong _total;

    /// <summary>A walker over the chain starting at <paramref name="head"/> (not yet validated) of <paramref name="ring"/>.</summary>
    /// <param name="ring">The queue's descriptor table.</param>
    /// <param name="memory">The guest memory table buffers and indirect tables are translated through.</param>
    /// <param name="indirectAllowed">Whether VIRTIO_F_INDIRECT_DESC was negotiated.</param>
    /// <param name="deviceWritable">True for a receive chain (every buffer WRITE), false for a transmit chain (none).</param>
    /// <param name="maxTotal">The largest sum of buffer lengths accepted.</param>
    /// <param name="head">The head index read from the avail ring.</param>
    public SplitChainWalker(SplitDescTableView ring, GuestMemory memory, bool indirectAllowed, bool deviceWritable, ulong maxTotal, uint head)
    {
        _memory = memory;
        _queueSize = ring.Count;
        _indirectAllowed = indirectAllowed;
        _deviceWritable = deviceWritable;
        _maxTotal = maxTotal;
        _table = ring;
        _next = head;
        _hops = 0;
        _hopLimit = ring.Count;
        _hasNext = true;
        _inIndirect = false;
        _total = 0;
        Fault = VhostQueueFault.None;
        FaultIndex = 0;
    }

    /// <summary>Why the walk stopped with <see cref="SplitWalkStep.Fault"/>.</summary>
    public VhostQueueFault Fault { get; private set; }

    /// <summary>The descriptor index (in the ring or in the indirect table) the fault was found at.</summary>
    public uint FaultIndex { get; private set; }

    /// <summary>Sum of the lengths of the buffers handed out so far.</summary>
    public readonly ulong TotalLength => _total;

    /// <summary>The next buffer of the chain, the end of the chain, or a fault (then every later call returns the fault again).</summary>
    public SplitWalkStep Next(out SplitBuffer buffer)
    {
        buffer = default;
        while (true)
        {
            if (Fault != VhostQueueFault.None)
            {
                return SplitWalkStep.Fault;
            }

            if (!_hasNext)
            {
                return SplitWalkStep.End;
            }

            uint index = _next;
            if (!_table.TryRead(index, out VirtqDesc desc))
            {
                return Stop(VhostQueueFault.DescriptorIndexOutOfRange, index);
            }

            if (_hops == _hopLimit)
            {
                return Stop(VhostQueueFault.ChainTooLong, index);
            }

            _hops++;
            var flags = (VirtqDescFlags)desc.Flags;
            uint length = desc.Len;
            ulong address = desc.Addr;
            if ((flags & VirtqDescFlags.Indirect) != 0)
            {
                if (_inIndirect || (flags & VirtqDescFlags.Next) != 0)
                {
                    return Stop(VhostQueueFault.NestedIndirect, index);
                }

                if (!_indirectAllowed
                    || length == 0
                    || length % VirtqDesc.Size != 0
                    || length / VirtqDesc.Size > _queueSize
                    || !_memory.TryTranslateGuestPhysical(address, length, out nint table))
                {
                    return Stop(VhostQueueFault.BadIndirectTable, index);
                }

                uint count = length / VirtqDesc.Size;
                _table = new SplitDescTableView(table, count);
                _inIndirect = true;
                _next = 0;
                _hops = 0;
                _hopLimit = count;
                continue;
            }

            if (((flags & VirtqDescFlags.Write) != 0) != _deviceWritable)
            {
                return Stop(VhostQueueFault.WrongDirection, index);
            }

            _hasNext = (flags & VirtqDescFlags.Next) != 0;
            _next = desc.Next;
            if (length == 0)
            {
                continue;
            }

            _total += length;
            if (_total > _maxTotal)
            {
                return Stop(VhostQueueFault.LengthOverflow, index);
            }

            if (!_memory.TryTranslateGuestPhysical(address, length, out nint host))
            {
                return Stop(VhostQueueFault.AddressNotMapped, index);
            }

            buffer = new SplitBuffer(address, host, length);
            return SplitWalkStep.Buffer;
        }
    }

    private SplitWalkStep Stop(VhostQueueFault fault, uint index)
    {
        Fault = fault;
        FaultIndex = index;
        return SplitWalkStep.Fault;
    }
}
