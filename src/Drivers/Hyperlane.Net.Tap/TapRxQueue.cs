using System.Runtime.InteropServices;
using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Tap;

/// <summary>
/// Rx queue of a tap port: one non-blocking readv per packet on the queue's fd, polled (no signals, no
/// O_ASYNC). The readv scatters into a vnet header and a chain of mbufs posted in advance that together hold
/// <see cref="Mbuf.MaxPacketLength"/> bytes, so a GSO packet of up to 64 KiB arrives whole as a multi-segment
/// mbuf. Only the segments a packet used are replaced. The vnet header the kernel wrote is validated before
/// it is believed. Unsafe: the iovec array and the header live in native memory the kernel writes into.
/// </summary>
internal sealed unsafe class TapRxQueue : EthRxQueue
{
    private readonly int fd;
    private readonly TapPortState state;
    private readonly ushort port;
    private readonly int minLength;
    private readonly int segments;
    private readonly long capacity;
    private readonly Mbuf[] posted;
    private readonly Mbuf[] fresh;
    private readonly IoVec* iov;
    private readonly VirtioNetHeader* header;
    private int released;

    public TapRxQueue(int queueId, int descriptors, Mempool pool, int fd, TapPortState state, ushort port, bool isTun)
        : base(queueId, descriptors, pool)
    {
        this.fd = fd;
        this.state = state;
        this.port = port;
        minLength = isTun ? 1 : 14;
        int room = pool.DataRoomSize - MbufHeader.DefaultHeadroom;
        if (room < 64)
        {
            throw new ArgumentException($"mempool '{pool.Name}' has {room} bytes of data room after headroom; the tap needs at least 64");
        }

        segments = Math.Min(Mbuf.MaxSegments, (Mbuf.MaxPacketLength + room - 1) / room);
        posted = new Mbuf[segments];
        fresh = new Mbuf[segments];
        if (pool.AllocBulk(posted) == 0)
        {
            throw new ArgumentException($"mempool '{pool.Name}' cannot give the {segments} mbufs an Rx queue keeps posted to hold a 64 KiB packet");
        }

        iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(segments + 1), (nuint)sizeof(IoVec));
        header = (VirtioNetHeader*)NativeMemory.AllocZeroed(VirtioNetHeader.Size);
        iov[0].Base = (nint)header;
        iov[0].Length = VirtioNetHeader.Size;
        long cap = 0;
        for (int i = 0; i < segments; i++)
        {
            cap += Post(i, posted[i]);
        }

        capacity = Math.Min(cap, Mbuf.MaxPacketLength);
    }

    /// <summary>Segments each Rx keeps posted.</summary>
    public int PostedSegments => segments;

    public override int Receive(Span<Mbuf> packets)
    {
        if (state.Removed)
        {
            return 0;
        }

        int n = 0;
        long bytes = 0;
        while (n < packets.Length)
        {
            SysResult r = Syscalls.Readv(fd, iov, segments + 1);
            if (!r.IsSuccess)
            {
                if (r.Error is not (Errno.EAGAIN or Errno.EINTR))
                {
                    Counters.Errors++;
                }

                break;
            }

            long length = r.Value - VirtioNetHeader.Size;
            if (length < minLength || length > capacity)
            {
                // Runt, or more than the posted chain holds (tun reports the full length and truncates).
                Counters.Errors++;
                continue;
            }

            VirtioNetHeader h = *header; // read once; the values below are checked before use
            if (!TryOffloadFlags(in h, (int)length, out ulong flags, out ushort tsoSize))
            {
                Counters.Errors++;
                continue;
            }

            int used = SegmentsFor((int)length);
            Span<Mbuf> replacements = fresh.AsSpan(0, used);
            if (Pool.AllocBulk(replacements) == 0)
            {
                // The packet is read and lost: no mbufs to replace the ones it filled.
                Counters.NoMbuf++;
                break;
            }

            packets[n++] = Complete((int)length, used, flags, tsoSize);
            bytes += length;
            for (int i = 0; i < used; i++)
            {
                Post(i, replacements[i]);
            }
        }

        Counters.Packets += n;
        Counters.Bytes += bytes;
        return n;
    }

    public override void Release()
    {
        if (Interlocked.Exchange(ref released, 1) != 0)
        {
            return;
        }

        Mbuf.FreeBulk(posted);
        NativeMemory.Free(iov);
        NativeMemory.Free(header);
    }

    /// <summary>
    /// Checks the kernel's vnet header against the packet and turns it into mbuf flags: DATA_VALID → L4
    /// checksum good; NEEDS_CSUM → L4 checksum "none" (data intact, checksum field holds the pseudo-header
    /// sum: DPDK's RTE_MBUF_F_RX_L4_CKSUM_NONE); GSO → LRO with the segment size.
    /// </summary>
    internal static bool TryOffloadFlags(in VirtioNetHeader h, int length, out ulong flags, out ushort tsoSize)
    {
        flags = 0;
        tsoSize = 0;
        if ((h.Flags & ~(VirtioNetHeader.FlagNeedsCsum | VirtioNetHeader.FlagDataValid | VirtioNetHeader.FlagRscInfo)) != 0)
        {
            return false;
        }

        if ((h.Flags & VirtioNetHeader.FlagNeedsCsum) != 0)
        {
            if (h.CsumStart + h.CsumOffset + 2 > length || h.CsumOffset < 2)
            {
                return false;
            }

            flags |= (ulong)MbufOffloadFlags.RxL4ChecksumNone;
        }
        else if ((h.Flags & VirtioNetHeader.FlagDataValid) != 0)
        {
            flags |= (ulong)MbufOffloadFlags.RxL4ChecksumGood;
        }

        byte gso = (byte)(h.GsoType & ~VirtioNetHeader.GsoEcn);
        if (gso == VirtioNetHeader.GsoNone)
        {
            return h.GsoType == VirtioNetHeader.GsoNone;
        }

        if (gso is not (VirtioNetHeader.GsoTcpV4 or VirtioNetHeader.GsoTcpV6 or VirtioNetHeader.GsoUdp or VirtioNetHeader.GsoUdpL4)
            || h.GsoSize == 0 || h.GsoSize >= length || h.HdrLen > length
            || (h.Flags & VirtioNetHeader.FlagNeedsCsum) == 0)
        {
            return false;
        }

        flags |= (ulong)MbufOffloadFlags.RxLro;
        tsoSize = h.GsoSize;
        return true;
    }

    private int SegmentsFor(int length)
    {
        int used = 0;
        long left = length;
        while (left > 0)
        {
            left -= (long)iov[used + 1].Length;
            used++;
        }

        return used;
    }

    /// <summary>Links posted[0..used) into one packet of <paramref name="length"/> bytes.</summary>
    private Mbuf Complete(int length, int used, ulong flags, ushort tsoSize)
    {
        Mbuf head = posted[0];
        int left = length;
        for (int i = 0; i < used; i++)
        {
            ref MbufHeader s = ref posted[i].Header;
            int take = (int)Math.Min((ulong)left, iov[i + 1].Length);
            s.DataLen = (ushort)take;
            s.PktLen = (uint)take;
            s.NbSegs = 1;
            s.Next = i + 1 < used ? posted[i + 1].Pointer : 0;
            left -= take;
        }

        ref MbufHeader hh = ref head.Header;
        hh.PktLen = (uint)length;
        hh.NbSegs = (ushort)used;
        hh.Port = port;
        hh.OlFlags = flags;
        hh.TsoSegSz = tsoSize;
        return head;
    }

    private long Post(int slot, Mbuf m)
    {
        posted[slot] = m;
        ref MbufHeader h = ref m.Header;
        iov[slot + 1].Base = h.BufAddr + h.DataOff;
        iov[slot + 1].Length = (nuint)(h.BufLen - h.DataOff);
        return h.BufLen - h.DataOff;
    }
}
