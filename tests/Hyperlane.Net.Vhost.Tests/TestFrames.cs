using System.Buffers.Binary;
using System.Globalization;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// Test frames: Ethernet header (local experimental ethertype 0x88B5), then a sequence number (4 bytes, big endian),
/// the queue index and a pattern that depends on both and on the byte's offset, so that a frame that was cut,
/// shifted, mixed with another or delivered on the wrong queue does not compare equal.
/// </summary>
internal static class TestFrames
{
    public const ushort EtherType = 0x88B5;

    public static readonly MacAddress GuestMac = MacAddress.Parse("02:00:00:00:00:0a");
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:0b");

    /// <summary>A frame of <paramref name="length"/> bytes (at least 20) from <paramref name="src"/> to <paramref name="dst"/>.</summary>
    public static byte[] Make(int length, int seq, int queue, MacAddress dst, MacAddress src)
    {
        Assert.InRange(length, 20, Mbuf.MaxPacketLength);
        var f = new byte[length];
        dst.CopyTo(f);
        src.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherType);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(14), seq);
        f[18] = (byte)queue;
        f[19] = (byte)(length >> 8);
        for (int i = 20; i < length; i++)
        {
            f[i] = (byte)((seq * 7) + (i * 13) + (queue * 101) + (i >> 8));
        }

        return f;
    }

    /// <summary>Frames of each size of <paramref name="sizes"/>, <paramref name="rounds"/> times, numbered from <paramref name="firstSeq"/>.</summary>
    public static List<byte[]> Series(IReadOnlyList<int> sizes, int rounds, int queue, MacAddress dst, MacAddress src, int firstSeq = 0)
    {
        var frames = new List<byte[]>(sizes.Count * rounds);
        for (int r = 0; r < rounds; r++)
        {
            foreach (int size in sizes)
            {
                frames.Add(Make(size, firstSeq + frames.Count, queue, dst, src));
            }
        }

        return frames;
    }

    /// <summary>Asserts <paramref name="received"/> is exactly <paramref name="sent"/>, frame by frame, in order.</summary>
    public static void AssertSame(IReadOnlyList<byte[]> sent, IReadOnlyList<byte[]> received, string what)
    {
        Assert.True(sent.Count == received.Count, $"{what}: {received.Count} frames received, {sent.Count} sent");
        for (int i = 0; i < sent.Count; i++)
        {
            if (!sent[i].AsSpan().SequenceEqual(received[i]))
            {
                Assert.Fail($"{what}: frame {i} differs: {Describe(sent[i])} sent, {Describe(received[i])} received" + FirstDifference(sent[i], received[i]));
            }
        }
    }

    public static string Describe(byte[] f) =>
        f.Length < 20
            ? string.Create(CultureInfo.InvariantCulture, $"{f.Length} bytes")
            : string.Create(CultureInfo.InvariantCulture, $"{f.Length} bytes seq {BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(14))} queue {f[18]}");

    private static string FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return string.Create(CultureInfo.InvariantCulture, $" (first difference at byte {i})");
            }
        }

        return string.Empty;
    }
}
