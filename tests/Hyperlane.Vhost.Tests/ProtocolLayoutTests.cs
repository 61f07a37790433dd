using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Tests;

/// <summary>vhost-user wire structs and numbers against vhost-user.rst (sizes and every field offset).</summary>
public class ProtocolLayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void Header_is_request_flags_size()
    {
        Assert.Equal(12, Marshal.SizeOf<VhostUserHeader>());
        Assert.Equal(12, Unsafe.SizeOf<VhostUserHeader>());
        Assert.Equal(0, Offset<VhostUserHeader>(nameof(VhostUserHeader.Request)));
        Assert.Equal(4, Offset<VhostUserHeader>(nameof(VhostUserHeader.Flags)));
        Assert.Equal(8, Offset<VhostUserHeader>(nameof(VhostUserHeader.PayloadSize)));
        Assert.Equal(0x3u, VhostUserHeader.VersionMask);
        Assert.Equal(0x1u, VhostUserHeader.Version);
        Assert.Equal(0x4u, VhostUserHeader.ReplyFlag);
        Assert.Equal(0x8u, VhostUserHeader.NeedReplyFlag);
    }

    [Fact]
    public void Vring_state_is_index_then_num()
    {
        Assert.Equal(8, Marshal.SizeOf<VhostVringState>());
        Assert.Equal(8, Unsafe.SizeOf<VhostVringState>());
        Assert.Equal(0, Offset<VhostVringState>(nameof(VhostVringState.Index)));
        Assert.Equal(4, Offset<VhostVringState>(nameof(VhostVringState.Num)));
    }

    [Fact]
    public void Vring_addr_is_40_bytes_without_a_size_field()
    {
        Assert.Equal(40, Marshal.SizeOf<VhostVringAddr>());
        Assert.Equal(40, Unsafe.SizeOf<VhostVringAddr>());
        Assert.Equal(0, Offset<VhostVringAddr>(nameof(VhostVringAddr.Index)));
        Assert.Equal(4, Offset<VhostVringAddr>(nameof(VhostVringAddr.Flags)));
        Assert.Equal(8, Offset<VhostVringAddr>(nameof(VhostVringAddr.DescUserAddr)));
        Assert.Equal(16, Offset<VhostVringAddr>(nameof(VhostVringAddr.UsedUserAddr)));
        Assert.Equal(24, Offset<VhostVringAddr>(nameof(VhostVringAddr.AvailUserAddr)));
        Assert.Equal(32, Offset<VhostVringAddr>(nameof(VhostVringAddr.LogGuestAddr)));
        Assert.Equal(1u, VhostVringAddr.FlagLog);
    }

    [Fact]
    public void Memory_region_is_gpa_size_uaddr_offset()
    {
        Assert.Equal(32, Marshal.SizeOf<VhostMemoryRegion>());
        Assert.Equal(32, Unsafe.SizeOf<VhostMemoryRegion>());
        Assert.Equal(0, Offset<VhostMemoryRegion>(nameof(VhostMemoryRegion.GuestPhysAddr)));
        Assert.Equal(8, Offset<VhostMemoryRegion>(nameof(VhostMemoryRegion.MemorySize)));
        Assert.Equal(16, Offset<VhostMemoryRegion>(nameof(VhostMemoryRegion.UserspaceAddr)));
        Assert.Equal(24, Offset<VhostMemoryRegion>(nameof(VhostMemoryRegion.MmapOffset)));
    }

    [Fact]
    public void Memory_table_is_nregions_padding_then_8_regions()
    {
        Assert.Equal(256, Marshal.SizeOf<VhostMemoryRegionArray>());
        Assert.Equal(256, Unsafe.SizeOf<VhostMemoryRegionArray>());
        Assert.Equal(264, Marshal.SizeOf<VhostUserMemory>());
        Assert.Equal(264, Unsafe.SizeOf<VhostUserMemory>());
        Assert.Equal(264, VhostUserMemory.Size);
        Assert.Equal(8, VhostUserMemory.MaxRegions);
        Assert.Equal(0, Offset<VhostUserMemory>(nameof(VhostUserMemory.NRegions)));
        Assert.Equal(4, Offset<VhostUserMemory>(nameof(VhostUserMemory.Padding)));
        Assert.Equal(8, Offset<VhostUserMemory>(nameof(VhostUserMemory.Regions)));
        Assert.Equal(8 + (3 * 32), VhostUserMemory.PayloadSizeFor(3));

        VhostUserMemory m = default;
        m.Regions[7] = new VhostMemoryRegion(1, 2, 3, 4);
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<VhostUserMemory>(in m));
        Assert.Equal(1UL, MemoryMarshal.Read<ulong>(bytes[(8 + (7 * 32))..]));     // region7.guest_phys_addr
        Assert.Equal(4UL, MemoryMarshal.Read<ulong>(bytes[(8 + (7 * 32) + 24)..])); // region7.mmap_offset
    }

    [Fact]
    public void Single_region_message_is_padding_then_region()
    {
        Assert.Equal(40, Marshal.SizeOf<VhostUserSingleMemoryRegion>());
        Assert.Equal(40, Unsafe.SizeOf<VhostUserSingleMemoryRegion>());
        Assert.Equal(0, Offset<VhostUserSingleMemoryRegion>(nameof(VhostUserSingleMemoryRegion.Padding)));
        Assert.Equal(8, Offset<VhostUserSingleMemoryRegion>(nameof(VhostUserSingleMemoryRegion.Region)));
    }

    [Fact]
    public void Log_description_is_size_then_offset()
    {
        Assert.Equal(16, Marshal.SizeOf<VhostUserLog>());
        Assert.Equal(16, Unsafe.SizeOf<VhostUserLog>());
        Assert.Equal(0, Offset<VhostUserLog>(nameof(VhostUserLog.MmapSize)));
        Assert.Equal(8, Offset<VhostUserLog>(nameof(VhostUserLog.MmapOffset)));
    }

    [Fact]
    public void Vring_file_bits_are_index_0_to_7_and_nofd_8()
    {
        Assert.Equal(0xFFUL, VhostVringFile.IndexMask);
        Assert.Equal(0x100UL, VhostVringFile.NoFdFlag);
        Assert.Equal(0x105UL, VhostVringFile.Encode(5, hasFd: false));
        Assert.Equal(0xFFUL, VhostVringFile.Encode(255, hasFd: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => VhostVringFile.Encode(256, hasFd: true));
    }

    [Theory]
    [InlineData(VhostUserRequest.GetFeatures, 1)]
    [InlineData(VhostUserRequest.SetFeatures, 2)]
    [InlineData(VhostUserRequest.SetOwner, 3)]
    [InlineData(VhostUserRequest.ResetOwner, 4)]
    [InlineData(VhostUserRequest.SetMemTable, 5)]
    [InlineData(VhostUserRequest.SetLogBase, 6)]
    [InlineData(VhostUserRequest.SetLogFd, 7)]
    [InlineData(VhostUserRequest.SetVringNum, 8)]
    [InlineData(VhostUserRequest.SetVringAddr, 9)]
    [InlineData(VhostUserRequest.SetVringBase, 10)]
    [InlineData(VhostUserRequest.GetVringBase, 11)]
    [InlineData(VhostUserRequest.SetVringKick, 12)]
    [InlineData(VhostUserRequest.SetVringCall, 13)]
    [InlineData(VhostUserRequest.SetVringErr, 14)]
    [InlineData(VhostUserRequest.GetProtocolFeatures, 15)]
    [InlineData(VhostUserRequest.SetProtocolFeatures, 16)]
    [InlineData(VhostUserRequest.GetQueueNum, 17)]
    [InlineData(VhostUserRequest.SetVringEnable, 18)]
    [InlineData(VhostUserRequest.SendRarp, 19)]
    [InlineData(VhostUserRequest.NetSetMtu, 20)]
    [InlineData(VhostUserRequest.SetBackendReqFd, 21)]
    [InlineData(VhostUserRequest.IotlbMsg, 22)]
    [InlineData(VhostUserRequest.SetVringEndian, 23)]
    [InlineData(VhostUserRequest.GetConfig, 24)]
    [InlineData(VhostUserRequest.SetConfig, 25)]
    [InlineData(VhostUserRequest.CreateCryptoSession, 26)]
    [InlineData(VhostUserRequest.CloseCryptoSession, 27)]
    [InlineData(VhostUserRequest.PostcopyAdvise, 28)]
    [InlineData(VhostUserRequest.PostcopyListen, 29)]
    [InlineData(VhostUserRequest.PostcopyEnd, 30)]
    [InlineData(VhostUserRequest.GetInflightFd, 31)]
    [InlineData(VhostUserRequest.SetInflightFd, 32)]
    [InlineData(VhostUserRequest.GpuSetSocket, 33)]
    [InlineData(VhostUserRequest.ResetDevice, 34)]
    [InlineData(VhostUserRequest.VringKick, 35)]
    [InlineData(VhostUserRequest.GetMaxMemSlots, 36)]
    [InlineData(VhostUserRequest.AddMemReg, 37)]
    [InlineData(VhostUserRequest.RemMemReg, 38)]
    [InlineData(VhostUserRequest.SetStatus, 39)]
    [InlineData(VhostUserRequest.GetStatus, 40)]
    [InlineData(VhostUserRequest.GetSharedObject, 41)]
    [InlineData(VhostUserRequest.SetDeviceStateFd, 42)]
    [InlineData(VhostUserRequest.CheckDeviceState, 43)]
    public void Request_numbers_are_the_spec_ids(VhostUserRequest request, uint id)
    {
        Assert.Equal(id, (uint)request);
        Assert.True(VhostUserRequestInfo.IsKnown(request));
        Assert.StartsWith("VHOST_USER_", VhostUserRequestInfo.SpecName(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Backend_request_numbers_are_the_spec_ids()
    {
        Assert.Equal(1u, (uint)VhostUserBackendRequest.IotlbMsg);
        Assert.Equal(2u, (uint)VhostUserBackendRequest.ConfigChangeMsg);
        Assert.Equal(3u, (uint)VhostUserBackendRequest.VringHostNotifierMsg);
        Assert.Equal(4u, (uint)VhostUserBackendRequest.VringCall);
        Assert.Equal(5u, (uint)VhostUserBackendRequest.VringErr);
        Assert.Equal(6u, (uint)VhostUserBackendRequest.SharedObjectAdd);
        Assert.Equal(7u, (uint)VhostUserBackendRequest.SharedObjectRemove);
        Assert.Equal(8u, (uint)VhostUserBackendRequest.SharedObjectLookup);
    }

    [Theory]
    [InlineData(VhostUserProtocolFeatures.Mq, 0)]
    [InlineData(VhostUserProtocolFeatures.LogShmfd, 1)]
    [InlineData(VhostUserProtocolFeatures.Rarp, 2)]
    [InlineData(VhostUserProtocolFeatures.ReplyAck, 3)]
    [InlineData(VhostUserProtocolFeatures.NetMtu, 4)]
    [InlineData(VhostUserProtocolFeatures.BackendReq, 5)]
    [InlineData(VhostUserProtocolFeatures.CrossEndian, 6)]
    [InlineData(VhostUserProtocolFeatures.CryptoSession, 7)]
    [InlineData(VhostUserProtocolFeatures.Pagefault, 8)]
    [InlineData(VhostUserProtocolFeatures.Config, 9)]
    [InlineData(VhostUserProtocolFeatures.BackendSendFd, 10)]
    [InlineData(VhostUserProtocolFeatures.HostNotifier, 11)]
    [InlineData(VhostUserProtocolFeatures.InflightShmfd, 12)]
    [InlineData(VhostUserProtocolFeatures.ResetDevice, 13)]
    [InlineData(VhostUserProtocolFeatures.InbandNotifications, 14)]
    [InlineData(VhostUserProtocolFeatures.ConfigureMemSlots, 15)]
    [InlineData(VhostUserProtocolFeatures.Status, 16)]
    [InlineData(VhostUserProtocolFeatures.XenMmap, 17)]
    [InlineData(VhostUserProtocolFeatures.SharedObject, 18)]
    [InlineData(VhostUserProtocolFeatures.DeviceState, 19)]
    public void Protocol_feature_bits_are_the_spec_bits(VhostUserProtocolFeatures feature, int bit)
    {
        Assert.Equal(1UL << bit, (ulong)feature);
    }
}
