using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// How a driver queue lays packets into buffers (virtio 1.2 §5.1.6 "Device Operation"), shared by the split and
/// packed queues. With VIRTIO_F_VERSION_1 the virtio-net header is 12 bytes and may share a descriptor with the
/// packet (§5.1.6.2 with VERSION_1 = ANY_LAYOUT), as DPDK's virtio PMD does.
/// </summary>
/// <remarks>
/// <para>Transmit: the header is written into the first segment's headroom when the mbuf is ours alone (reference
/// count 1, direct, at least 12 bytes of headroom): one descriptor per segment. Otherwise (shared or external mbuf,
/// no headroom) a separate first descriptor points at a zero header in the ring area: one extra descriptor, nothing
/// written into the packet. Hyperlane negotiates no offload, so every transmit header is zero, but for a pushed
/// header's num_buffers, which is left as found (see <see cref="PushHeader"/>).</para>
/// <para>Receive: each buffer is posted as [data room + headroom - 12, end of data room): the header lands in the
/// headroom and the packet at the mbuf's default data offset (DPDK: RTE_PKTMBUF_HEADROOM - hdr_size). Further
/// buffers of a merged packet (VIRTIO_NET_F_MRG_RXBUF) carry data from their first byte.</para>
/// </remarks>
internal static class DriverPackets
{
    /// <summary>The virtio-net header with VIRTIO_F_VERSION_1.</summary>
    public const int HeaderSize = VirtioNetHeader.Size;

    /// <summary>The shortest first receive buffer accepted: a header and an Ethernet header (as DPDK's virtio PMD).</summary>
    public const int MinRxLength = HeaderSize + 14;

    /// <summary>Offset of num_buffers in the header.</summary>
    private const int NumBuffersOffset = 10;

    /// <summary>Whether the header can go into the first segment's headroom.</summary>
    public static bool CanPush(Mbuf packet) =>
        packet.RefCount == 1 && !packet.IsExternal && packet.Headroom >= HeaderSize && packet.PacketLength + HeaderSize <= Mbuf.MaxPacketLength;

    /// <summary>Whether segment <paramref name="segment"/> of <paramref name="packet"/> gets a descriptor.</summary>
    public static bool TakesDescriptor(Mbuf packet, Mbuf segment, bool push) => segment.DataLength > 0 || (push && segment == packet);

    /// <summary>
    /// Checks a packet before posting: its chain ends within <see cref="Mbuf.MaxSegments"/>, every segment that gets
    /// a descriptor lies in shared memory, and the descriptors it needs fit the ring.
    /// </summary>
    public static DriverQueueFault PlanTx(Mbuf packet, FrontendMemoryTable memory, int ringSize, out int descriptors, out bool push)
    {
        push = CanPush(packet);
        descriptors = push ? 0 : 1;
        int segments = 0;
        for (Mbuf m = packet; !m.IsNull; m = m.Next)
        {
            if (++segments > Mbuf.MaxSegments)
            {
                return DriverQueueFault.TxTooManySegments;
            }

            if (!TakesDescriptor(packet, m, push))
            {
                continue;
            }

            ulong address = (ulong)(m.BufferAddress + m.DataOffset);
            ulong length = m.DataLength;
            if (push && m == packet)
            {
                address -= HeaderSize;
                length += HeaderSize;
            }

            if (!memory.Contains(address, length))
            {
                return DriverQueueFault.TxSegmentNotShared;
            }

            descriptors++;
        }

        return descriptors > ringSize ? DriverQueueFault.TxTooManySegments : DriverQueueFault.None;
    }

    /// <summary>
    /// Writes the (zero) header into the headroom of a packet <see cref="CanPush"/> accepted: flags, gso_type,
    /// hdr_len, gso_size, csum_start and csum_offset. num_buffers (the last two bytes) is left as found, as DPDK's
    /// virtio PMD leaves it: devices ignore it on transmit (§5.1.6.2, "unused on transmitted packets"), and an mbuf
    /// that was a receive buffer holds the device's 1 there, which the device then finds in place, without a store
    /// from either side, when the mbuf is posted for receive again. With <paramref name="checkFirst"/> (the caller
    /// expects the mbuf to have been sent or received before) the bytes are read first and not written again when
    /// they are zero: the device read that cache line last time, and a store would take it out of the device's cache
    /// only to write what is there. Otherwise the header is written blind: reading a line the device just wrote
    /// would stall where a store does not.
    /// </summary>
    /// <returns>True when the header was found zero (and not written).</returns>
    public static bool PushHeader(Mbuf packet, bool checkFirst)
    {
        if (!packet.TryPrepend(HeaderSize, out Span<byte> header))
        {
            return false;
        }

        if (checkFirst && (MemoryMarshal.Read<ulong>(header) | MemoryMarshal.Read<ushort>(header[8..])) == 0)
        {
            return true;
        }

        MemoryMarshal.Write(header, 0UL);
        MemoryMarshal.Write(header[8..], (ushort)0);
        return false;
    }

    /// <summary>Device-writable address of a fresh receive mbuf: where the header goes.</summary>
    public static ulong RxBufferAddress(Mbuf m) => (ulong)(m.BufferAddress + m.DataOffset - HeaderSize);

    /// <summary>Device-writable length of a fresh receive mbuf: header plus the rest of the data room.</summary>
    public static uint RxBufferLength(Mbuf m) => (uint)(m.BufferLength - m.DataOffset + HeaderSize);

    /// <summary>num_buffers from the header the device wrote into a posted receive buffer, one load.</summary>
    public static ushort ReadNumBuffers(Mbuf posted) =>
        BinaryPrimitives.ReadUInt16LittleEndian(SharedBytes.At(posted.BufferAddress + posted.DataOffset - HeaderSize + NumBuffersOffset, sizeof(ushort)));

    /// <summary>Turns a used first buffer into the head of a packet: data after the header.</summary>
    public static void FinishRxHead(Mbuf m, uint usedLength, ushort port)
    {
        ushort data = (ushort)(usedLength - HeaderSize);
        m.DataLength = data;
        m.PacketLength = data;
        m.Port = port;
    }

    /// <summary>Turns a further used buffer of a merged packet into a segment: data from the buffer's first byte.</summary>
    public static void FinishRxSegment(Mbuf m, uint usedLength)
    {
        m.Header.DataOff -= HeaderSize;
        m.DataLength = (ushort)usedLength;
        m.PacketLength = usedLength;
    }
}
