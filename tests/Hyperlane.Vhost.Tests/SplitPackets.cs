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

    public static VirtioNetHeader ReadHeader(ReadOnlySpan<byte> bytes, int headerSize)
    {
        VirtioNetHeader header = default;
        bytes[..headerSize].CopyTo(MemoryMarshal.AsBytes(new Span<VirtioNetHeader>(ref header)));
        return header;
    }
}
