namespace Hyperlane.Memory.Tests;

/// <summary>PacketCopy: every length through the inline sizes and past them, at odd alignments, overlapping, and guarded.</summary>
public class PacketCopyTests
{
    private const int Guard = 40;

    public static TheoryData<int> Offsets => new() { 0, 1, 7, 13, 31, 63 };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Copies_every_length_exactly_and_writes_nothing_outside_the_destination(int misalign)
    {
        for (int length = 0; length <= 300; length++)
        {
            byte[] source = Pattern(length + misalign, seed: length);
            byte[] target = new byte[Guard + length + Guard + 64];
            Array.Fill(target, (byte)0xA5);

            PacketCopy.Copy(source.AsSpan(misalign, length), target.AsSpan(Guard + misalign, length + 17));

            Assert.True(
                target.AsSpan(Guard + misalign, length).SequenceEqual(source.AsSpan(misalign, length)),
                $"length {length}, misalign {misalign}: the copy differs");
            Assert.True(
                target.AsSpan(0, Guard + misalign).IndexOfAnyExcept((byte)0xA5) < 0,
                $"length {length}, misalign {misalign}: a byte before the destination was written");
            Assert.True(
                target.AsSpan(Guard + misalign + length).IndexOfAnyExcept((byte)0xA5) < 0,
                $"length {length}, misalign {misalign}: a byte after the copied length was written");
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-5)]
    [InlineData(12)]
    [InlineData(-12)]
    [InlineData(33)]
    [InlineData(-33)]
    [InlineData(70)]
    [InlineData(-70)]
    public void Overlapping_ranges_copy_as_memmove_does(int shift)
    {
        for (int length = 0; length <= 200; length++)
        {
            byte[] buffer = Pattern(512, seed: length);
            byte[] expected = (byte[])buffer.Clone();
            int from = 150, to = 150 + shift;
            Array.Copy(expected, from, expected, to, length); // Array.Copy handles overlap as memmove

            PacketCopy.Copy(buffer.AsSpan(from, length), buffer.AsSpan(to, length));

            Assert.True(buffer.AsSpan().SequenceEqual(expected), $"length {length}, shift {shift}: the overlapping copy differs");
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(12, 11)]
    [InlineData(64, 63)]
    [InlineData(100, 99)]
    [InlineData(2000, 1999)]
    public void A_destination_shorter_than_the_source_throws_before_writing(int sourceLength, int destinationLength)
    {
        byte[] source = Pattern(sourceLength, seed: 3);
        byte[] target = new byte[destinationLength];

        var e = Assert.Throws<ArgumentException>(() => PacketCopy.Copy(source, target));

        Assert.Equal("destination", e.ParamName);
        Assert.True(target.AsSpan().IndexOfAnyExcept((byte)0) < 0, "nothing may be written when the copy is refused");
    }

    [Fact]
    public void Long_copies_past_the_inline_sizes_are_exact()
    {
        foreach (int length in new[] { 129, 255, 1514, 2048, 9000 })
        {
            byte[] source = Pattern(length, seed: length);
            byte[] target = new byte[length];
            PacketCopy.Copy(source, target);
            Assert.Equal(source, target);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12)]
    [InlineData(32)]
    [InlineData(52)]
    [InlineData(63)]
    public unsafe void Streaming_copies_every_length_exactly_at_every_line_offset_and_writes_nothing_outside(int lineOffset)
    {
        // Native memory on a 64-byte boundary, so the destination's offset in its cache line is known exactly.
        const int Room = 64 + 300 + 64 + 64;
        byte* block = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(Room, 64);
        try
        {
            var target = new Span<byte>(block, Room);
            for (int length = 0; length <= 300; length++)
            {
                byte[] source = Pattern(length, seed: length);
                target.Fill(0xA5);
                int at = 64 + lineOffset;

                bool streamed = PacketCopy.CopyStreaming(source, target.Slice(at, length + 9));
                PacketCopy.StreamingFence();

                Assert.True(target.Slice(at, length).SequenceEqual(source), $"length {length}, line offset {lineOffset}: the copy differs");
                Assert.True(target[..at].IndexOfAnyExcept((byte)0xA5) < 0, $"length {length}, line offset {lineOffset}: a byte before the destination was written");
                Assert.True(target[(at + length)..].IndexOfAnyExcept((byte)0xA5) < 0, $"length {length}, line offset {lineOffset}: a byte after the copied length was written");

                // Streaming stores only for whole lines of the destination, and only with AVX.
                int head = (64 - lineOffset) % 64;
                bool wholeLine = length >= 64 && length - head >= 64;
                Assert.Equal(wholeLine && System.Runtime.Intrinsics.X86.Avx.IsSupported, streamed);
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(block);
        }
    }

    [Fact]
    public void Streaming_copies_of_long_frames_into_managed_arrays_are_exact()
    {
        foreach (int length in new[] { 64, 129, 1514, 2048, 9000 })
        {
            byte[] source = Pattern(length, seed: length);
            byte[] target = new byte[length + 5];
            PacketCopy.CopyStreaming(source, target.AsSpan(5));
            PacketCopy.StreamingFence();
            Assert.True(target.AsSpan(5).SequenceEqual(source), $"length {length}: the copy differs");
        }
    }

    [Fact]
    public void A_streaming_copy_into_a_shorter_destination_throws_before_writing()
    {
        byte[] source = Pattern(200, seed: 4);
        byte[] target = new byte[199];

        var e = Assert.Throws<ArgumentException>(() => PacketCopy.CopyStreaming(source, target));

        Assert.Equal("destination", e.ParamName);
        Assert.True(target.AsSpan().IndexOfAnyExcept((byte)0) < 0, "nothing may be written when the copy is refused");
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] b = new byte[length];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (byte)((i * 131) + (seed * 17) + 1);
        }

        return b;
    }
}
