using System.Buffers.Binary;
using System.Diagnostics;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Xunit;

namespace Hyperlane.Testing;

/// <summary>The frames the lab transmits: IPv4/UDP to port 4789+1, with a magic, a sequence number and the Stopwatch time of the TxBurst call; and frames to and from mbufs.</summary>
public static class LabFrames
{
    public const int Length = 96;
    public const ushort DstPort = 4790;
    public const uint Magic = 0x484C4653; // "HLFS"
    public static readonly MacAddress SrcMac = MacAddress.Parse("02:00:00:ee:00:01");

    /// <summary>No interface has it: the kernel takes the frames as PACKET_OTHERHOST and drops them after the packet sockets saw them.</summary>
    public static readonly MacAddress DstMac = MacAddress.Parse("02:00:00:ee:ee:ee");

    public static void Build(Span<byte> frame, ushort srcPort, long seq, long timestamp)
    {
        PacketBuilder.Udp4(frame, SrcMac, DstMac, PacketBuilder.Ip(198, 18, 1, 1), PacketBuilder.Ip(198, 18, 1, 2), srcPort, DstPort, frame.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[42..], Magic);
        BinaryPrimitives.WriteInt64BigEndian(frame[46..], seq);
        BinaryPrimitives.WriteInt64BigEndian(frame[54..], timestamp);
    }

    public static byte[] Make(ushort srcPort, long seq = 0)
    {
        var f = new byte[Length];
        Build(f, srcPort, seq, Stopwatch.GetTimestamp());
        return f;
    }

    public static bool TryParse(ReadOnlySpan<byte> frame, out ushort srcPort, out long seq, out long timestamp)
    {
        srcPort = 0;
        seq = timestamp = 0;
        if (frame.Length < 62 || frame[12] != 0x08 || frame[13] != 0x00 || frame[23] != 17
            || BinaryPrimitives.ReadUInt16BigEndian(frame[36..]) != DstPort || BinaryPrimitives.ReadUInt32BigEndian(frame[42..]) != Magic)
        {
            return false;
        }

        srcPort = BinaryPrimitives.ReadUInt16BigEndian(frame[34..]);
        seq = BinaryPrimitives.ReadInt64BigEndian(frame[46..]);
        timestamp = BinaryPrimitives.ReadInt64BigEndian(frame[54..]);
        return true;
    }

    public static double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;

    /// <summary>An mbuf from <paramref name="pool"/> holding <paramref name="frame"/>, chained over as many as it needs (one empty mbuf for an empty frame).</summary>
    public static Mbuf ToMbuf(Mempool pool, ReadOnlySpan<byte> frame)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Mbuf head = default;
        int offset = 0;
        do
        {
            Mbuf m = pool.Alloc();
            Assert.False(m.IsNull, $"mempool {pool.Name} is empty");
            int n = Math.Min(m.Tailroom, frame.Length - offset);
            Assert.True(m.TryAppend(n, out Span<byte> data));
            frame.Slice(offset, n).CopyTo(data);
            offset += n;
            if (head.IsNull)
            {
                head = m;
            }
            else
            {
                Assert.True(head.TryChain(m), "chain too long");
            }
        }
        while (offset < frame.Length);

        return head;
    }

    /// <summary>The whole packet (every segment), after checking the chain is consistent.</summary>
    public static byte[] Bytes(Mbuf m)
    {
        Assert.Null(m.Validate());
        var b = new byte[m.PacketLength];
        Assert.Equal(b.Length, m.CopyTo(b));
        return b;
    }
}
