using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hyperlane.Memory.Tests;

/// <summary>
/// The native mbuf header and the handle have a fixed layout (DESIGN.md, Memory: "fixed, tested layout").
/// The expected offsets are written by hand from MbufHeader.cs so that an accidental change fails here.
/// </summary>
public unsafe class MbufHeaderLayoutTests
{
    /// <summary>Every field of <see cref="MbufHeader"/> with its declared offset and size.</summary>
    public static TheoryData<string, int, int> HeaderFields => new()
    {
        // first cache line: what Rx writes and io forwarding reads
        { nameof(MbufHeader.BufAddr), 0, 8 },
        { nameof(MbufHeader.BufIova), 8, 8 },
        { nameof(MbufHeader.RefCnt), 16, 4 },
        { nameof(MbufHeader.DataOff), 20, 2 },
        { nameof(MbufHeader.NbSegs), 22, 2 },
        { nameof(MbufHeader.OlFlags), 24, 8 },
        { nameof(MbufHeader.PacketType), 32, 4 },
        { nameof(MbufHeader.PktLen), 36, 4 },
        { nameof(MbufHeader.DataLen), 40, 2 },
        { nameof(MbufHeader.VlanTci), 42, 2 },
        { nameof(MbufHeader.RssHash), 44, 4 },
        { nameof(MbufHeader.Port), 48, 2 },
        { nameof(MbufHeader.BufLen), 50, 2 },
        { nameof(MbufHeader.PoolId), 52, 2 },
        { nameof(MbufHeader.PrivSize), 54, 2 },
        { nameof(MbufHeader.Next), 56, 8 },

        // second cache line: Tx offloads, external buffer
        { nameof(MbufHeader.L2Len), 64, 2 },
        { nameof(MbufHeader.L3Len), 66, 2 },
        { nameof(MbufHeader.L4Len), 68, 2 },
        { nameof(MbufHeader.TsoSegSz), 70, 2 },
        { nameof(MbufHeader.VlanTciOuter), 72, 2 },
        { nameof(MbufHeader.Reserved0), 74, 2 },
        { nameof(MbufHeader.Reserved1), 76, 4 },
        { nameof(MbufHeader.ShInfo), 80, 8 },
        { nameof(MbufHeader.UserData), 88, 8 },
    };

    /// <summary>The fields Rx writes and forwarding reads: all must sit in the first 64-byte cache line.</summary>
    public static TheoryData<string> HotRxFields => new()
    {
        nameof(MbufHeader.BufAddr),
        nameof(MbufHeader.DataOff),
        nameof(MbufHeader.DataLen),
        nameof(MbufHeader.PktLen),
        nameof(MbufHeader.Port),
        nameof(MbufHeader.OlFlags),
        nameof(MbufHeader.PacketType),
        nameof(MbufHeader.RssHash),
        nameof(MbufHeader.VlanTci),
        nameof(MbufHeader.NbSegs),
        nameof(MbufHeader.RefCnt),
        nameof(MbufHeader.Next),
    };

    [Fact]
    public void Header_is_128_bytes_two_cache_lines()
    {
        Assert.Equal(128, MbufHeader.Size);
        Assert.Equal(128, sizeof(MbufHeader));
        Assert.Equal(128, Unsafe.SizeOf<MbufHeader>());
        Assert.Equal(128, Marshal.SizeOf<MbufHeader>());
    }

    [Theory]
    [MemberData(nameof(HeaderFields))]
    public void Header_field_is_at_its_declared_offset(string field, int offset, int size)
    {
        FieldInfo f = typeof(MbufHeader).GetField(field, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"MbufHeader has no field {field}");
        Assert.Equal(offset, (int)Marshal.OffsetOf<MbufHeader>(field));
        Assert.Equal(offset, f.GetCustomAttribute<FieldOffsetAttribute>()!.Value);
        Assert.Equal(size, Marshal.SizeOf(f.FieldType.IsEnum ? Enum.GetUnderlyingType(f.FieldType) : f.FieldType));
    }

    [Fact]
    public void Header_offsets_measured_in_memory_match_the_table()
    {
        // Unsafe.ByteOffset measures the managed layout the JIT uses, independent of marshalling.
        MbufHeader h = default;
        ref byte b = ref Unsafe.As<MbufHeader, byte>(ref h);
        Assert.Equal(0, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref h.BufAddr)));
        Assert.Equal(8, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ulong, byte>(ref h.BufIova)));
        Assert.Equal(16, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<int, byte>(ref h.RefCnt)));
        Assert.Equal(20, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.DataOff)));
        Assert.Equal(22, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.NbSegs)));
        Assert.Equal(24, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ulong, byte>(ref h.OlFlags)));
        Assert.Equal(32, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref h.PacketType)));
        Assert.Equal(36, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref h.PktLen)));
        Assert.Equal(40, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.DataLen)));
        Assert.Equal(42, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.VlanTci)));
        Assert.Equal(44, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref h.RssHash)));
        Assert.Equal(48, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.Port)));
        Assert.Equal(50, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.BufLen)));
        Assert.Equal(52, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.PoolId)));
        Assert.Equal(54, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.PrivSize)));
        Assert.Equal(56, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref h.Next)));
        Assert.Equal(64, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.L2Len)));
        Assert.Equal(66, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.L3Len)));
        Assert.Equal(68, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.L4Len)));
        Assert.Equal(70, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.TsoSegSz)));
        Assert.Equal(72, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.VlanTciOuter)));
        Assert.Equal(74, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ushort, byte>(ref h.Reserved0)));
        Assert.Equal(76, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<uint, byte>(ref h.Reserved1)));
        Assert.Equal(80, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref h.ShInfo)));
        Assert.Equal(88, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<ulong, byte>(ref h.UserData)));
    }

    [Fact]
    public void Table_names_every_header_field_and_no_two_fields_overlap()
    {
        var expected = new Dictionary<string, (int Offset, int Size)>();
        foreach (object[] row in HeaderFields)
        {
            expected.Add((string)row[0], ((int)row[1], (int)row[2]));
        }

        FieldInfo[] fields = typeof(MbufHeader).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), fields.Select(f => f.Name).Order(StringComparer.Ordinal));

        var ordered = expected.Values.OrderBy(v => v.Offset).ToArray();
        for (int i = 1; i < ordered.Length; i++)
        {
            Assert.True(ordered[i - 1].Offset + ordered[i - 1].Size <= ordered[i].Offset, $"field at {ordered[i - 1].Offset} overlaps the one at {ordered[i].Offset}");
        }

        Assert.True(ordered[^1].Offset + ordered[^1].Size <= MbufHeader.Size);
    }

    [Theory]
    [MemberData(nameof(HotRxFields))]
    public void Hot_rx_field_is_in_the_first_cache_line(string field)
    {
        FieldInfo f = typeof(MbufHeader).GetField(field)!;
        int offset = (int)Marshal.OffsetOf<MbufHeader>(field);
        Assert.True(offset + Marshal.SizeOf(f.FieldType) <= 64, $"{field} ends at {offset + Marshal.SizeOf(f.FieldType)}, past the first cache line");
    }

    [Fact]
    public void Tx_lengths_are_contiguous_for_the_single_reset_store()
    {
        // Mbuf.ResetHeader clears L2Len, L3Len, L4Len and TsoSegSz with one 8-byte store at L2Len.
        Assert.Equal(64, (int)Marshal.OffsetOf<MbufHeader>(nameof(MbufHeader.L2Len)));
        Assert.Equal(66, (int)Marshal.OffsetOf<MbufHeader>(nameof(MbufHeader.L3Len)));
        Assert.Equal(68, (int)Marshal.OffsetOf<MbufHeader>(nameof(MbufHeader.L4Len)));
        Assert.Equal(70, (int)Marshal.OffsetOf<MbufHeader>(nameof(MbufHeader.TsoSegSz)));
        Assert.Equal(72, (int)Marshal.OffsetOf<MbufHeader>(nameof(MbufHeader.VlanTciOuter)));
    }

    [Fact]
    public void Mbuf_handle_is_one_pointer()
    {
        Assert.Equal(8, sizeof(Mbuf));
        Assert.Equal(8, Unsafe.SizeOf<Mbuf>());
        Assert.True(default(Mbuf).IsNull);
    }

    [Fact]
    public void External_buffer_info_is_32_bytes_with_declared_offsets()
    {
        Assert.Equal(32, ExternalBufferInfo.Size);
        Assert.Equal(32, sizeof(ExternalBufferInfo));
        Assert.Equal(32, Marshal.SizeOf<ExternalBufferInfo>());
        Assert.Equal(0, (int)Marshal.OffsetOf<ExternalBufferInfo>(nameof(ExternalBufferInfo.RefCnt)));
        Assert.Equal(8, (int)Marshal.OffsetOf<ExternalBufferInfo>(nameof(ExternalBufferInfo.Releaser)));
        Assert.Equal(16, (int)Marshal.OffsetOf<ExternalBufferInfo>(nameof(ExternalBufferInfo.Opaque)));
        Assert.Equal(24, (int)Marshal.OffsetOf<ExternalBufferInfo>(nameof(ExternalBufferInfo.Reserved)));
        Assert.Equal(4, typeof(ExternalBufferInfo).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Length);

        ExternalBufferInfo info = default;
        ref byte b = ref Unsafe.As<ExternalBufferInfo, byte>(ref info);
        Assert.Equal(0, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<int, byte>(ref info.RefCnt)));
        Assert.Equal(8, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref info.Releaser)));
        Assert.Equal(16, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref info.Opaque)));
        Assert.Equal(24, (int)Unsafe.ByteOffset(ref b, ref Unsafe.As<nint, byte>(ref info.Reserved)));
    }

    [Fact]
    public void Header_constants_match_dpdk_defaults()
    {
        Assert.Equal(128, MbufHeader.DefaultHeadroom);
        Assert.Equal(0xFFFF, MbufHeader.PortInvalid);
        Assert.Equal(2048 + 128, Mempool.DefaultDataRoomSize);
    }
}
