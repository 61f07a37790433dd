using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Packets;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Virtqueue and virtio-net structs against the virtio 1.2 spec (sizes and every field offset).</summary>
public class VirtioLayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void VirtqDesc_is_16_bytes_addr_len_flags_next()
    {
        Assert.Equal(16, Unsafe.SizeOf<VirtqDesc>());
        Assert.Equal(16, Marshal.SizeOf<VirtqDesc>());
        Assert.Equal(VirtqDesc.Size, Unsafe.SizeOf<VirtqDesc>());
        Assert.Equal(0, Offset<VirtqDesc>(nameof(VirtqDesc.Addr)));
        Assert.Equal(8, Offset<VirtqDesc>(nameof(VirtqDesc.Len)));
        Assert.Equal(12, Offset<VirtqDesc>(nameof(VirtqDesc.Flags)));
        Assert.Equal(14, Offset<VirtqDesc>(nameof(VirtqDesc.Next)));
    }

    [Fact]
    public void VirtqDesc_bytes_are_little_endian_fields_in_order()
    {
        var d = new VirtqDesc(0x1122334455667788, 0xAABBCCDD, VirtqDescFlags.Next | VirtqDescFlags.Write, 0x0102);
        byte[] bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<VirtqDesc>(in d)).ToArray();
        Assert.Equal(
            new byte[] { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xDD, 0xCC, 0xBB, 0xAA, 0x03, 0x00, 0x02, 0x01 },
            bytes);
    }

    [Fact]
    public void Descriptor_flags_have_the_spec_values()
    {
        Assert.Equal(1, (int)VirtqDescFlags.Next);
        Assert.Equal(2, (int)VirtqDescFlags.Write);
        Assert.Equal(4, (int)VirtqDescFlags.Indirect);
        Assert.Equal(1 << 7, (int)VirtqDescFlags.Avail);
        Assert.Equal(1 << 15, (int)VirtqDescFlags.Used);
        Assert.Equal(2, Unsafe.SizeOf<VirtqDescFlags>());
    }

    [Fact]
    public void Split_ring_headers_are_flags_then_idx()
    {
        Assert.Equal(4, Marshal.SizeOf<VirtqAvailHeader>());
        Assert.Equal(4, Unsafe.SizeOf<VirtqAvailHeader>());
        Assert.Equal(0, Offset<VirtqAvailHeader>(nameof(VirtqAvailHeader.Flags)));
        Assert.Equal(2, Offset<VirtqAvailHeader>(nameof(VirtqAvailHeader.Idx)));
        Assert.Equal(1, VirtqAvailHeader.FlagNoInterrupt);

        Assert.Equal(4, Marshal.SizeOf<VirtqUsedHeader>());
        Assert.Equal(4, Unsafe.SizeOf<VirtqUsedHeader>());
        Assert.Equal(0, Offset<VirtqUsedHeader>(nameof(VirtqUsedHeader.Flags)));
        Assert.Equal(2, Offset<VirtqUsedHeader>(nameof(VirtqUsedHeader.Idx)));
        Assert.Equal(1, VirtqUsedHeader.FlagNoNotify);
    }

    [Fact]
    public void VirtqUsedElem_is_id_then_len()
    {
        Assert.Equal(8, Marshal.SizeOf<VirtqUsedElem>());
        Assert.Equal(8, Unsafe.SizeOf<VirtqUsedElem>());
        Assert.Equal(0, Offset<VirtqUsedElem>(nameof(VirtqUsedElem.Id)));
        Assert.Equal(4, Offset<VirtqUsedElem>(nameof(VirtqUsedElem.Len)));
    }

    [Fact]
    public void VirtqPackedDesc_is_addr_len_id_flags()
    {
        Assert.Equal(16, Marshal.SizeOf<VirtqPackedDesc>());
        Assert.Equal(16, Unsafe.SizeOf<VirtqPackedDesc>());
        Assert.Equal(0, Offset<VirtqPackedDesc>(nameof(VirtqPackedDesc.Addr)));
        Assert.Equal(8, Offset<VirtqPackedDesc>(nameof(VirtqPackedDesc.Len)));
        Assert.Equal(12, Offset<VirtqPackedDesc>(nameof(VirtqPackedDesc.Id)));
        Assert.Equal(14, Offset<VirtqPackedDesc>(nameof(VirtqPackedDesc.Flags)));
    }

    [Fact]
    public void Packed_event_suppression_is_desc_then_flags_with_wrap_in_bit_15()
    {
        Assert.Equal(4, Marshal.SizeOf<VirtqPackedEventSuppress>());
        Assert.Equal(4, Unsafe.SizeOf<VirtqPackedEventSuppress>());
        Assert.Equal(0, Offset<VirtqPackedEventSuppress>(nameof(VirtqPackedEventSuppress.Desc)));
        Assert.Equal(2, Offset<VirtqPackedEventSuppress>(nameof(VirtqPackedEventSuppress.Flags)));
        Assert.Equal(0, (int)PackedEventFlags.Enable);
        Assert.Equal(1, (int)PackedEventFlags.Disable);
        Assert.Equal(2, (int)PackedEventFlags.Desc);

        var e = new VirtqPackedEventSuppress { Desc = 0x8000 | 123, Flags = 0xFFFE };
        Assert.Equal(123, e.EventOffset);
        Assert.True(e.EventWrap);
        Assert.Equal(PackedEventFlags.Desc, e.EventFlags); // reserved bits 2-15 dropped
    }

    [Fact]
    public void VirtioNetHeader_is_12_bytes_with_num_buffers_last()
    {
        Assert.Equal(12, Marshal.SizeOf<VirtioNetHeader>());
        Assert.Equal(12, Unsafe.SizeOf<VirtioNetHeader>());
        Assert.Equal(0, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.Flags)));
        Assert.Equal(1, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.GsoType)));
        Assert.Equal(2, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.HdrLen)));
        Assert.Equal(4, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.GsoSize)));
        Assert.Equal(6, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.CsumStart)));
        Assert.Equal(8, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.CsumOffset)));
        Assert.Equal(10, Offset<VirtioNetHeader>(nameof(VirtioNetHeader.NumBuffers)));
        Assert.Equal(10, VirtioNetHeader.LegacySize);
    }

    [Fact]
    public void Net_header_size_depends_on_VERSION_1_or_MRG_RXBUF()
    {
        Assert.Equal(10, VirtioFeatures.NetHeaderSize(0));
        Assert.Equal(10, VirtioFeatures.NetHeaderSize(VirtioFeatures.Mask(VirtioFeatures.NetCsum)));
        Assert.Equal(12, VirtioFeatures.NetHeaderSize(VirtioFeatures.Mask(VirtioFeatures.Version1)));
        Assert.Equal(12, VirtioFeatures.NetHeaderSize(VirtioFeatures.Mask(VirtioFeatures.NetMrgRxbuf)));
    }

    [Fact]
    public void Feature_bits_have_the_spec_numbers()
    {
        Assert.Equal(0, VirtioFeatures.NetCsum);
        Assert.Equal(1, VirtioFeatures.NetGuestCsum);
        Assert.Equal(3, VirtioFeatures.NetMtu);
        Assert.Equal(5, VirtioFeatures.NetMac);
        Assert.Equal(7, VirtioFeatures.NetGuestTso4);
        Assert.Equal(11, VirtioFeatures.NetHostTso4);
        Assert.Equal(15, VirtioFeatures.NetMrgRxbuf);
        Assert.Equal(16, VirtioFeatures.NetStatus);
        Assert.Equal(17, VirtioFeatures.NetCtrlVq);
        Assert.Equal(21, VirtioFeatures.NetGuestAnnounce);
        Assert.Equal(22, VirtioFeatures.NetMq);
        Assert.Equal(24, VirtioFeatures.NotifyOnEmpty);
        Assert.Equal(26, VirtioFeatures.VhostLogAll);
        Assert.Equal(28, VirtioFeatures.RingIndirectDesc);
        Assert.Equal(29, VirtioFeatures.RingEventIdx);
        Assert.Equal(30, VirtioFeatures.VhostUserProtocolFeatures);
        Assert.Equal(32, VirtioFeatures.Version1);
        Assert.Equal(33, VirtioFeatures.AccessPlatform);
        Assert.Equal(34, VirtioFeatures.RingPacked);
        Assert.Equal(35, VirtioFeatures.InOrder);
        Assert.Equal(1UL << 32, VirtioFeatures.Mask(VirtioFeatures.Version1));
        Assert.True(VirtioFeatures.IsSet(1UL << 34, VirtioFeatures.RingPacked));
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtioFeatures.Mask(64));
    }

    [Fact]
    public void Split_ring_part_sizes_follow_the_spec_table()
    {
        Assert.Equal(16UL * 256, SplitVirtqueueLayout.DescTableSize(256));
        Assert.Equal(6UL + (2 * 256), SplitVirtqueueLayout.AvailRingSize(256));
        Assert.Equal(6UL + (8 * 256), SplitVirtqueueLayout.UsedRingSize(256));
        Assert.Equal(4UL + (2 * 256), SplitVirtqueueLayout.UsedEventOffset(256));
        Assert.Equal(4UL + (8 * 256), SplitVirtqueueLayout.AvailEventOffset(256));
        Assert.Equal(4UL + (2 * 5), SplitVirtqueueLayout.AvailRingEntryOffset(5));
        Assert.Equal(4UL + (8 * 5), SplitVirtqueueLayout.UsedRingEntryOffset(5));
        Assert.Equal(16UL * 32768, SplitVirtqueueLayout.DescTableSize(32768));
        Assert.True(SplitVirtqueueLayout.IsValidQueueSize(1));
        Assert.True(SplitVirtqueueLayout.IsValidQueueSize(32768));
        Assert.False(SplitVirtqueueLayout.IsValidQueueSize(0));
        Assert.False(SplitVirtqueueLayout.IsValidQueueSize(3));
        Assert.False(SplitVirtqueueLayout.IsValidQueueSize(65536));
        Assert.True(PackedVirtqueueLayout.IsValidQueueSize(3));
        Assert.False(PackedVirtqueueLayout.IsValidQueueSize(32769));
        Assert.Equal(16UL * 3, PackedVirtqueueLayout.DescRingSize(3));
    }

    [Fact]
    public void Device_status_bits_have_the_spec_values()
    {
        Assert.Equal(1, (int)VirtioDeviceStatus.Acknowledge);
        Assert.Equal(2, (int)VirtioDeviceStatus.Driver);
        Assert.Equal(4, (int)VirtioDeviceStatus.DriverOk);
        Assert.Equal(8, (int)VirtioDeviceStatus.FeaturesOk);
        Assert.Equal(64, (int)VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(128, (int)VirtioDeviceStatus.Failed);
    }
}
