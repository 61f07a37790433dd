using System.Runtime.InteropServices;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Packet bytes and mbufs for the split-queue tests.</summary>
internal static class SplitPackets
{
    /// <summary>A frame of <paramref name="length"/> bytes: broadcast destination, a made-up source, EtherType 0x88B5 (local experimental), then a pattern derived from <paramref name="seed"/>.</summary>
    public static byte[] Frame(int length, int seed)
    {
        var frame = new byte[length];
        new Random(seed).NextBytes(frame);
        if (length >= 14)
        {
            frame.AsSpan(0, 6).Fill(0xFF);
            frame[6] = 0x02;
            frame[12] = 0x88;
            frame[13] = 0xB5;
        }

        return frame;
    }

    /// <summary>The bytes a transmitting guest puts in its chain: <paramref name="header"/> (its first <paramref name="headerSize"/> bytes), then <paramref name="frame"/>.</summary>
    public static byte[] WithHeader(int headerSize, ReadOnlySpan<byte> frame, VirtioNetHeader header = default)
    {
        var bytes = new byte[headerSize + frame.Length];
        MemoryMarshal.AsBytes(new ReadOnlySpan<VirtioNetHeader>(in header))[..headerSize].CopyTo(bytes);
        frame.CopyTo(bytes.AsSpan(headerSize));
        return bytes;
    }

    /// <summary>An mbuf chain from <paramref name="pool"/> holding <paramref name="data"/>.</summary>
    public static Mbuf ToMbuf(Mempool pool, ReadOnlySpan<byte> data)
    {
        Mbuf head = pool.Alloc();
        Assert.False(head.IsNull, "pool empty");
        Mbuf last = head;
        while (true)
        {
            int n = Math.Min(last.Tailroom, data.Length);
            Assert.True(head.TryAppend(n, out Span<byte> tail));
            data[..n].CopyTo(tail);
            data = data[n..];
            if (data.IsEmpty)
            {
                return head;
            }

            Mbuf segment = pool.Alloc();
            Assert.False(segment.IsNull, "pool empty");
            Assert.True(head.TryChain(segment));
            last = segment;
        }
    }

    public static byte[] Bytes(Mbuf packet)
    {
        Assert.Null(packet.Validate());
        var bytes = new byte[packet.PacketLength];
        Assert.Equal(bytes.Length, packet.CopyTo(bytes));
        return bytes;
    }

    public static VirtioNetHeader ReadHeader(ReadOnlySpan<byte> bytes, int headerSize)
    {
        VirtioNetHeader header = default;
        bytes[..headerSize].CopyTo(MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref header)));
        return header;
    }
}
