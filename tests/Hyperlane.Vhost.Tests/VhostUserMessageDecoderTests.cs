using Hyperlane.Vhost.Protocol;
using static Hyperlane.Vhost.Tests.Wire;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// <see cref="VhostUserMessageDecoder"/>: one test per rule and malformed case (hardening.md §3.6 VU-01..VU-07),
/// and a valid message of every supported request.
/// </summary>
public class VhostUserMessageDecoderTests
{
    private static readonly VhostMemoryRegion Low = Region(0, 0xA0000, 0x7F00_0000_0000, 0);
    private static readonly VhostMemoryRegion High = Region(0x100000, 0x3FF00000, 0x7F00_0010_0000, 0x100000);

    // ---- valid messages of each supported request ----

    public static TheoryData<VhostUserRequest, byte[], int, VhostUserPayloadKind> ValidRequests() => new()
    {
        { VhostUserRequest.GetFeatures, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.SetFeatures, U64(0x1_7020_8000), 0, VhostUserPayloadKind.U64 },
        { VhostUserRequest.SetOwner, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.ResetOwner, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.SetMemTable, MemTable(Low, High), 2, VhostUserPayloadKind.Memory },
        { VhostUserRequest.SetLogBase, Bytes(new VhostUserLog(0x1000, 0)), 1, VhostUserPayloadKind.Log },
        { VhostUserRequest.SetLogFd, [], 1, VhostUserPayloadKind.None },
        { VhostUserRequest.SetVringNum, State(0, 256), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.SetVringAddr, Bytes(new VhostVringAddr(1, 1, 0x7F00_0000_1000, 0x7F00_0000_3000, 0x7F00_0000_2000, 0x3000)), 0, VhostUserPayloadKind.VringAddr },
        { VhostUserRequest.SetVringBase, State(1, 0x8000_8000), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.GetVringBase, State(1, 0), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.SetVringKick, U64(3), 1, VhostUserPayloadKind.VringFile },
        { VhostUserRequest.SetVringCall, U64(3 | 0x100), 0, VhostUserPayloadKind.VringFile },
        { VhostUserRequest.SetVringErr, U64(255), 1, VhostUserPayloadKind.VringFile },
        { VhostUserRequest.GetProtocolFeatures, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.SetProtocolFeatures, U64(0x8B), 0, VhostUserPayloadKind.U64 },
        { VhostUserRequest.GetQueueNum, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.SetVringEnable, State(1, 1), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.SendRarp, U64(0x0000_5634_1200_5452), 0, VhostUserPayloadKind.U64 },
        { VhostUserRequest.NetSetMtu, U64(1500), 0, VhostUserPayloadKind.U64 },
        { VhostUserRequest.SetBackendReqFd, [], 1, VhostUserPayloadKind.None },
        { VhostUserRequest.SetVringEndian, State(0, 1), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.ResetDevice, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.VringKick, State(2, 0), 0, VhostUserPayloadKind.VringState },
        { VhostUserRequest.GetMaxMemSlots, [], 0, VhostUserPayloadKind.None },
        { VhostUserRequest.AddMemReg, Single(High), 1, VhostUserPayloadKind.SingleMemoryRegion },
        { VhostUserRequest.RemMemReg, Single(High), 0, VhostUserPayloadKind.SingleMemoryRegion },
        { VhostUserRequest.SetStatus, U64(0x0F), 0, VhostUserPayloadKind.U64 },
        { VhostUserRequest.GetStatus, [], 0, VhostUserPayloadKind.None },
    };

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void Valid_request_is_decoded(VhostUserRequest request, byte[] payload, int fds, VhostUserPayloadKind kind)
    {
        VhostUserMessage m = Accept(request, payload, fds);
        Assert.Equal(kind, m.PayloadKind);
        Assert.Equal(kind, VhostUserRequestInfo.RequestPayload(request));
        Assert.False(m.NeedReply);
        Assert.False(m.IsReply);
        Assert.Equal((uint)payload.Length, m.Header.PayloadSize);
        Assert.Contains(VhostUserRequestInfo.SpecName(request), m.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_supported_request_has_a_valid_message_test()
    {
        var covered = new HashSet<VhostUserRequest>();
        foreach (var row in ValidRequests())
        {
            covered.Add((VhostUserRequest)row[0]);
        }

        foreach (VhostUserRequest r in Enum.GetValues<VhostUserRequest>())
        {
            Assert.Equal(VhostUserRequestInfo.IsSupported(r), covered.Contains(r));
        }
    }

    [Fact]
    public void Memory_table_regions_are_decoded_in_order()
    {
        VhostUserMessage m = Accept(VhostUserRequest.SetMemTable, MemTable(Low, High), 2);
        Assert.Equal(2, m.MemoryRegions.Length);
        Assert.Equal(Low, m.MemoryRegions[0]);
        Assert.Equal(High, m.MemoryRegions[1]);
    }

    [Fact]
    public void Memory_table_with_eight_regions_is_the_largest_payload()
    {
        var regions = new VhostMemoryRegion[8];
        for (int i = 0; i < 8; i++)
        {
            regions[i] = Region((ulong)i << 30, 1UL << 30, 0x7F00_0000_0000 + ((ulong)i << 30), 0);
        }

        byte[] payload = MemTable(regions);
        Assert.Equal(VhostUserMessageDecoder.MaxPayloadSize, payload.Length);
        VhostUserMessage m = Accept(VhostUserRequest.SetMemTable, payload, 8);
        Assert.Equal(regions, m.MemoryRegions.ToArray());
    }

    [Fact]
    public void Adjacent_regions_do_not_overlap()
    {
        Accept(VhostUserRequest.SetMemTable, MemTable(Region(0, 0x1000, 0x10000), Region(0x1000, 0x1000, 0x11000)), 2);
    }

    [Fact]
    public void Vring_address_is_decoded()
    {
        var addr = new VhostVringAddr(7, VhostVringAddr.FlagLog, 0x1000, 0x3000, 0x2000, 0x4000);
        VhostUserMessage m = Accept(VhostUserRequest.SetVringAddr, Bytes(addr), 0);
        Assert.Equal(addr, m.VringAddr);
        Assert.Equal(7u, m.VringIndex);
        Assert.True(m.VringAddr.LogEnabled);
    }

    [Fact]
    public void Vring_file_index_and_fd_presence_are_decoded()
    {
        VhostUserMessage kick = Accept(VhostUserRequest.SetVringKick, U64(9), 1);
        Assert.Equal(9u, kick.VringIndex);
        Assert.True(kick.VringFileHasFd);

        VhostUserMessage call = Accept(VhostUserRequest.SetVringCall, U64(255 | 0x100), 0);
        Assert.Equal(255u, call.VringIndex);
        Assert.False(call.VringFileHasFd);
        Assert.Equal(0x1FFUL, call.U64);
    }

    [Fact]
    public void Log_base_with_a_non_zero_offset_is_decoded()
    {
        VhostUserMessage m = Accept(VhostUserRequest.SetLogBase, Bytes(new VhostUserLog(0x8000, 0x1000)), 1);
        Assert.Equal(0x8000UL, m.Log.MmapSize);
        Assert.Equal(0x1000UL, m.Log.MmapOffset);
    }

    [Fact]
    public void Need_reply_flag_is_accepted_and_reported()
    {
        VhostUserMessage m = Accept(VhostUserRequest.SetVringNum, State(0, 256), 0, V1 | VhostUserHeader.NeedReplyFlag);
        Assert.True(m.NeedReply);
        Assert.Equal(new VhostVringState(0, 256), m.VringState);
    }

    [Fact]
    public void Remove_region_tolerates_one_fd()
    {
        Accept(VhostUserRequest.RemMemReg, Single(High), 1);
    }

    [Fact]
    public void Remove_region_ignores_the_mmap_offset()
    {
        Accept(VhostUserRequest.RemMemReg, Single(Region(0x1000, 0x1000, 0x10000, ulong.MaxValue)), 0);
    }

    [Fact]
    public void Ring_size_32768_and_a_non_power_of_two_are_accepted()
    {
        Accept(VhostUserRequest.SetVringNum, State(0, 32768), 0);
        Accept(VhostUserRequest.SetVringNum, State(0, 3), 0); // packed rings allow it; the session checks split rings
    }

    [Fact]
    public void Edge_values_are_accepted()
    {
        Accept(VhostUserRequest.NetSetMtu, U64(68), 0);
        Accept(VhostUserRequest.NetSetMtu, U64(65535), 0);
        Accept(VhostUserRequest.SetStatus, U64(0xFF), 0);
        Accept(VhostUserRequest.SetVringNum, State(255, 1), 0);
        const ulong inband = (ulong)(VhostUserProtocolFeatures.InbandNotifications | VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.ReplyAck);
        Accept(VhostUserRequest.SetProtocolFeatures, U64(inband), 0);
    }

    [Fact]
    public void Reading_another_payload_kind_throws()
    {
        VhostUserMessage m = Accept(VhostUserRequest.GetFeatures, [], 0);
        Assert.Throws<InvalidOperationException>(() => m.U64);
        Assert.Throws<InvalidOperationException>(() => m.VringState);
        Assert.Throws<InvalidOperationException>(() => m.MemoryRegions.Length);
        Assert.Throws<InvalidOperationException>(() => m.VringIndex);
    }

    // ---- header ----

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    [InlineData(13)]
    public void Header_that_is_not_12_bytes_is_rejected(int length)
    {
        bool ok = VhostUserMessageDecoder.TryDecode(new byte[length], [], 0, out var m, out var error, out var text);
        Assert.False(ok);
        Assert.Null(m);
        Assert.Equal(VhostUserDecodeError.HeaderLength, error);
        Assert.Contains("12", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void Version_bits_other_than_1_are_rejected(uint version)
    {
        string text = Reject(VhostUserDecodeError.BadVersion, VhostUserRequest.GetFeatures, [], 0, version);
        Assert.Contains("version", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reply_flag_on_a_request_is_rejected()
    {
        Reject(VhostUserDecodeError.ReplyFlagOnRequest, VhostUserRequest.GetFeatures, [], 0, V1 | VhostUserHeader.ReplyFlag);
    }

    [Theory]
    [InlineData(0x10u)]
    [InlineData(0x8000_0000u)]
    public void Reserved_flag_bits_are_rejected(uint bit)
    {
        Reject(VhostUserDecodeError.ReservedFlags, VhostUserRequest.GetFeatures, [], 0, V1 | bit);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(44u)]
    [InlineData(uint.MaxValue)]
    public void Unknown_request_number_is_rejected(uint request)
    {
        var r = Decode(Header(request, V1, 0), [], 0);
        Assert.False(r.Ok);
        Assert.Equal(VhostUserDecodeError.UnknownRequest, r.Error);
        Assert.Contains(request.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VhostUserRequest.IotlbMsg)]
    [InlineData(VhostUserRequest.GetConfig)]
    [InlineData(VhostUserRequest.SetConfig)]
    [InlineData(VhostUserRequest.CreateCryptoSession)]
    [InlineData(VhostUserRequest.CloseCryptoSession)]
    [InlineData(VhostUserRequest.PostcopyAdvise)]
    [InlineData(VhostUserRequest.PostcopyListen)]
    [InlineData(VhostUserRequest.PostcopyEnd)]
    [InlineData(VhostUserRequest.GetInflightFd)]
    [InlineData(VhostUserRequest.SetInflightFd)]
    [InlineData(VhostUserRequest.GpuSetSocket)]
    [InlineData(VhostUserRequest.GetSharedObject)]
    [InlineData(VhostUserRequest.SetDeviceStateFd)]
    [InlineData(VhostUserRequest.CheckDeviceState)]
    public void Known_but_unsupported_request_is_rejected_by_name(VhostUserRequest request)
    {
        string text = Reject(VhostUserDecodeError.UnsupportedRequest, request, new byte[24], 1);
        Assert.Contains(VhostUserRequestInfo.SpecName(request), text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(265u)]
    [InlineData(uint.MaxValue)]
    public void Header_size_above_the_largest_payload_is_rejected_before_reading_it(uint size)
    {
        bool ok = VhostUserMessageDecoder.TryDecodeHeader(Header((uint)VhostUserRequest.SetMemTable, V1, size), out var h, out var error, out var text);
        Assert.False(ok);
        Assert.Equal(VhostUserDecodeError.PayloadTooLarge, error);
        Assert.Equal(size, h.PayloadSize);
        Assert.Contains("264", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_alone_is_decoded_for_the_payload_read()
    {
        Assert.True(VhostUserMessageDecoder.TryDecodeHeader(Header(5, V1 | 8, 72), out var h, out var error, out var text));
        Assert.Equal(VhostUserDecodeError.None, error);
        Assert.Null(text);
        Assert.Equal(5u, h.Request);
        Assert.True(h.NeedReply);
        Assert.Equal(72u, h.PayloadSize);
    }

    [Fact]
    public void Payload_span_shorter_than_the_header_size_is_rejected()
    {
        var r = Decode(Header((uint)VhostUserRequest.SetFeatures, V1, 8), new byte[4], 0);
        Assert.Equal(VhostUserDecodeError.PayloadLength, r.Error);
    }

    // ---- payload size per request ----

    [Theory]
    [InlineData(VhostUserRequest.GetFeatures, 8)]
    [InlineData(VhostUserRequest.SetOwner, 8)]
    [InlineData(VhostUserRequest.SetLogFd, 8)]
    [InlineData(VhostUserRequest.SetFeatures, 0)]
    [InlineData(VhostUserRequest.SetFeatures, 4)]
    [InlineData(VhostUserRequest.SetFeatures, 16)]
    [InlineData(VhostUserRequest.SetVringNum, 4)]
    [InlineData(VhostUserRequest.SetVringNum, 12)]
    [InlineData(VhostUserRequest.SetVringAddr, 32)]
    [InlineData(VhostUserRequest.SetVringAddr, 48)]
    [InlineData(VhostUserRequest.SetVringKick, 4)]
    [InlineData(VhostUserRequest.SetLogBase, 8)] // the message list's "u64": QEMU and DPDK send the 16-byte log description
    [InlineData(VhostUserRequest.AddMemReg, 32)]
    [InlineData(VhostUserRequest.RemMemReg, 48)]
    [InlineData(VhostUserRequest.NetSetMtu, 2)]
    public void Payload_size_other_than_the_request_needs_is_rejected(VhostUserRequest request, int size)
    {
        int fds = VhostUserRequestInfo.FdPolicy(request) is VhostUserFdPolicy.One or VhostUserFdPolicy.OneUnlessNoFd ? 1 : 0;
        string text = Reject(VhostUserDecodeError.PayloadSize, request, new byte[size], fds);
        Assert.Contains(VhostUserRequestInfo.SpecName(request), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_table_shorter_than_its_header_is_rejected()
    {
        Reject(VhostUserDecodeError.PayloadSize, VhostUserRequest.SetMemTable, new byte[4], 0);
    }

    [Fact]
    public void Memory_table_with_zero_regions_is_rejected()
    {
        Reject(VhostUserDecodeError.RegionCount, VhostUserRequest.SetMemTable, MemTable(0u), 0);
    }

    [Fact]
    public void Memory_table_with_nine_regions_is_rejected()
    {
        Reject(VhostUserDecodeError.RegionCount, VhostUserRequest.SetMemTable, MemTable(9u, Low, High), 8);
    }

    [Fact]
    public void Memory_table_size_not_matching_nregions_is_rejected()
    {
        Reject(VhostUserDecodeError.PayloadSize, VhostUserRequest.SetMemTable, MemTable(2u, Low), 2);
        Reject(VhostUserDecodeError.PayloadSize, VhostUserRequest.SetMemTable, MemTable(1u, Low, High), 1);
    }

    [Fact]
    public void Full_264_byte_table_announcing_fewer_regions_is_rejected()
    {
        var regions = new VhostMemoryRegion[8];
        regions[0] = Low;
        Reject(VhostUserDecodeError.PayloadSize, VhostUserRequest.SetMemTable, MemTable(1u, regions), 1);
    }

    // ---- fds (VU-02, CVE-2019-14818, CVE-2022-0669) ----

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Memory_table_with_a_fd_count_other_than_nregions_is_rejected(int fds)
    {
        string text = Reject(VhostUserDecodeError.FdCount, VhostUserRequest.SetMemTable, MemTable(Low, High), fds);
        Assert.Contains("one per region (2)", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VhostUserRequest.SetVringKick)]
    [InlineData(VhostUserRequest.SetVringCall)]
    [InlineData(VhostUserRequest.SetVringErr)]
    public void Vring_file_without_nofd_and_without_fd_is_rejected(VhostUserRequest request)
    {
        Reject(VhostUserDecodeError.FdCount, request, U64(1), 0);
        Reject(VhostUserDecodeError.FdCount, request, U64(1), 2);
    }

    [Theory]
    [InlineData(VhostUserRequest.SetVringKick)]
    [InlineData(VhostUserRequest.SetVringCall)]
    [InlineData(VhostUserRequest.SetVringErr)]
    public void Vring_file_with_nofd_and_an_fd_is_rejected(VhostUserRequest request)
    {
        string text = Reject(VhostUserDecodeError.FdCount, request, U64(1 | 0x100), 1);
        Assert.Contains("invalid-FD", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VhostUserRequest.SetLogBase, 0)]
    [InlineData(VhostUserRequest.SetLogBase, 2)]
    [InlineData(VhostUserRequest.SetLogFd, 0)]
    [InlineData(VhostUserRequest.SetLogFd, 2)]
    [InlineData(VhostUserRequest.SetBackendReqFd, 0)]
    [InlineData(VhostUserRequest.AddMemReg, 0)]
    [InlineData(VhostUserRequest.AddMemReg, 2)]
    public void Request_needing_one_fd_with_another_count_is_rejected(VhostUserRequest request, int fds)
    {
        byte[] payload = request switch
        {
            VhostUserRequest.SetLogBase => Bytes(new VhostUserLog(0x1000, 0)),
            VhostUserRequest.AddMemReg => Single(High),
            _ => [],
        };
        Reject(VhostUserDecodeError.FdCount, request, payload, fds);
    }

    [Fact]
    public void Remove_region_with_two_fds_is_rejected()
    {
        Reject(VhostUserDecodeError.FdCount, VhostUserRequest.RemMemReg, Single(High), 2);
    }

    [Theory]
    [InlineData(VhostUserRequest.GetFeatures)]
    [InlineData(VhostUserRequest.SetOwner)]
    [InlineData(VhostUserRequest.GetVringBase)]
    [InlineData(VhostUserRequest.SetVringNum)]
    [InlineData(VhostUserRequest.SetFeatures)]
    public void Request_without_fds_carrying_one_is_rejected(VhostUserRequest request)
    {
        byte[] payload = VhostUserRequestInfo.RequestPayload(request) switch
        {
            VhostUserPayloadKind.VringState => State(0, request == VhostUserRequest.GetVringBase ? 0u : 256u),
            VhostUserPayloadKind.U64 => U64(0),
            _ => [],
        };
        Reject(VhostUserDecodeError.FdCount, request, payload, 1);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(9)]
    public void Impossible_fd_count_is_rejected(int fds)
    {
        Reject(VhostUserDecodeError.FdCount, VhostUserRequest.GetFeatures, [], fds);
    }

    // ---- memory regions (VU-07) ----

    [Fact]
    public void Region_of_size_zero_is_rejected()
    {
        Reject(VhostUserDecodeError.EmptyRegion, VhostUserRequest.SetMemTable, MemTable(Low, Region(0x100000, 0, 0x7F00_1000_0000)), 2);
        Reject(VhostUserDecodeError.EmptyRegion, VhostUserRequest.AddMemReg, Single(Region(0x100000, 0, 0x7F00_1000_0000)), 1);
    }

    [Fact]
    public void Region_whose_guest_end_overflows_is_rejected()
    {
        string text = Reject(VhostUserDecodeError.RegionOverflow, VhostUserRequest.SetMemTable, MemTable(Region(ulong.MaxValue - 0xFFF, 0x1000, 0x10000)), 1);
        Assert.Contains("guest address", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_whose_user_end_overflows_is_rejected()
    {
        string text = Reject(VhostUserDecodeError.RegionOverflow, VhostUserRequest.SetMemTable, MemTable(Region(0, 0x2000, ulong.MaxValue - 0x1000)), 1);
        Assert.Contains("user address", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_whose_mmap_offset_end_overflows_is_rejected()
    {
        string text = Reject(VhostUserDecodeError.RegionOverflow, VhostUserRequest.SetMemTable, MemTable(Region(0, 0x2000, 0x10000, ulong.MaxValue - 0x1000)), 1);
        Assert.Contains("mmap offset", text, StringComparison.Ordinal);
        Reject(VhostUserDecodeError.RegionOverflow, VhostUserRequest.AddMemReg, Single(Region(0, 0x2000, 0x10000, ulong.MaxValue)), 1);
    }

    [Fact]
    public void Regions_overlapping_in_guest_physical_space_are_rejected()
    {
        string text = Reject(
            VhostUserDecodeError.RegionOverlap, VhostUserRequest.SetMemTable,
            MemTable(Region(0, 0x2000, 0x10000), Region(0x1FFF, 0x1000, 0x20000)), 2);
        Assert.Contains("guest-physical", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Regions_overlapping_in_user_space_are_rejected()
    {
        string text = Reject(
            VhostUserDecodeError.RegionOverlap, VhostUserRequest.SetMemTable,
            MemTable(Region(0, 0x2000, 0x10000), Region(0x100000, 0x1000, 0xF001)), 2);
        Assert.Contains("user address", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_inside_another_is_rejected()
    {
        Reject(VhostUserDecodeError.RegionOverlap, VhostUserRequest.SetMemTable, MemTable(Region(0, 0x10000, 0x100000), Region(0x1000, 0x1000, 0x200000)), 2);
    }

    // ---- vring values (VU-03, VU-06) ----

    [Theory]
    [InlineData(VhostUserRequest.SetVringNum, 256u)]
    [InlineData(VhostUserRequest.SetVringNum, 0x0001_0000u)] // CVE-2020-10723: u16 truncation would read 0
    [InlineData(VhostUserRequest.SetVringBase, 0x0001_0001u)]
    [InlineData(VhostUserRequest.GetVringBase, uint.MaxValue)]
    [InlineData(VhostUserRequest.SetVringEnable, 0x100u)]
    public void Vring_index_of_256_or_more_is_rejected(VhostUserRequest request, uint index)
    {
        string text = Reject(VhostUserDecodeError.VringIndex, request, State(index, request == VhostUserRequest.SetVringNum ? 256u : 0u), 0);
        Assert.Contains(index.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Vring_address_index_of_256_or_more_is_rejected()
    {
        Reject(VhostUserDecodeError.VringIndex, VhostUserRequest.SetVringAddr, Bytes(new VhostVringAddr(0x0001_0000, 0, 1, 2, 3, 4)), 0);
    }

    [Fact]
    public void Vring_address_flags_other_than_log_are_rejected()
    {
        Reject(VhostUserDecodeError.ReservedBits, VhostUserRequest.SetVringAddr, Bytes(new VhostVringAddr(0, 2, 1, 2, 3, 4)), 0);
    }

    [Theory]
    [InlineData(0x200UL)]
    [InlineData(1UL << 32)]
    [InlineData(0x8000_0000_0000_0001UL)]
    public void Vring_file_bits_beyond_index_and_nofd_are_rejected(ulong value)
    {
        Reject(VhostUserDecodeError.ReservedBits, VhostUserRequest.SetVringCall, U64(value), 1);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(32769u)]
    [InlineData(uint.MaxValue)]
    public void Ring_size_outside_1_to_32768_is_rejected(uint num)
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetVringNum, State(0, num), 0);
    }

    [Fact]
    public void Get_vring_base_ignores_its_num_as_dpdk_virtio_user_fills_it_with_the_ring_size()
    {
        VhostUserMessage m = Accept(VhostUserRequest.GetVringBase, State(1, 256), 0);
        Assert.Equal(1u, m.VringState.Index);
    }

    [Fact]
    public void Inband_kick_with_non_zero_num_is_rejected()
    {
        Reject(VhostUserDecodeError.ReservedBits, VhostUserRequest.VringKick, State(0, 1), 0);
    }

    [Fact]
    public void Vring_enable_other_than_0_or_1_is_rejected()
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetVringEnable, State(0, 2), 0);
    }

    [Fact]
    public void Vring_endianness_other_than_0_or_1_is_rejected()
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetVringEndian, State(0, 2), 0);
    }

    // ---- log, MTU, status, protocol features ----

    [Fact]
    public void Log_of_size_zero_is_rejected()
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetLogBase, Bytes(new VhostUserLog(0, 0)), 1);
    }

    [Theory]
    [InlineData(ulong.MaxValue, 1UL)]
    [InlineData(0x1000UL, ulong.MaxValue - 0xFFFUL)] // CVE-2020-10722
    public void Log_whose_offset_plus_size_overflows_is_rejected(ulong size, ulong offset)
    {
        Reject(VhostUserDecodeError.RegionOverflow, VhostUserRequest.SetLogBase, Bytes(new VhostUserLog(size, offset)), 1);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(67UL)]
    [InlineData(65536UL)]
    [InlineData(ulong.MaxValue)]
    public void Mtu_outside_68_to_65535_is_rejected(ulong mtu)
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.NetSetMtu, U64(mtu), 0);
    }

    [Fact]
    public void Status_wider_than_8_bits_is_rejected()
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetStatus, U64(0x100), 0);
    }

    [Theory]
    [InlineData(VhostUserProtocolFeatures.InbandNotifications)]
    [InlineData(VhostUserProtocolFeatures.InbandNotifications | VhostUserProtocolFeatures.BackendReq)]
    [InlineData(VhostUserProtocolFeatures.InbandNotifications | VhostUserProtocolFeatures.ReplyAck)]
    public void Inband_notifications_without_backend_req_and_reply_ack_are_rejected(VhostUserProtocolFeatures features)
    {
        Reject(VhostUserDecodeError.InvalidValue, VhostUserRequest.SetProtocolFeatures, U64((ulong)features), 0);
    }

    // ---- never throws ----

    [Fact]
    public void Random_input_never_throws_and_what_passes_keeps_the_invariants()
    {
        var random = new Random(6);
        var header = new byte[12];
        var payload = new byte[300];
        int accepted = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Mostly plausible headers (version 1, known request, small size) so that payload rules are reached.
            uint request = (uint)random.Next(0, 46);
            uint flags = random.Next(8) == 0 ? (uint)random.Next() : (V1 | (random.Next(4) == 0 ? 8u : 0u));
            int size = random.Next(3) switch { 0 => 8, 1 => random.Next(0, 300), _ => 8 + (32 * random.Next(0, 10)) };
            System.Runtime.InteropServices.MemoryMarshal.Write(header, request);
            System.Runtime.InteropServices.MemoryMarshal.Write(header.AsSpan(4), flags);
            System.Runtime.InteropServices.MemoryMarshal.Write(header.AsSpan(8), (uint)size);
            random.NextBytes(payload);
            if (random.Next(2) == 0)
            {
                // small numbers make valid vring indexes, region counts and sizes likelier
                System.Runtime.InteropServices.MemoryMarshal.Write(payload, (ulong)random.Next(0, 10));
            }

            int fds = random.Next(-1, 10);
            int length = random.Next(8) == 0 ? random.Next(0, 300) : size;
            if (VhostUserMessageDecoder.TryDecode(header, payload.AsSpan(0, length), fds, out var m, out _, out _))
            {
                accepted++;
                Assert.True(m.FdCount is >= 0 and <= VhostUserMessageDecoder.MaxFds);
                Assert.True(m.Header.PayloadSize <= VhostUserMessageDecoder.MaxPayloadSize);
                Assert.True(VhostUserRequestInfo.IsSupported(m.Request));
                if (m.PayloadKind is VhostUserPayloadKind.VringState or VhostUserPayloadKind.VringAddr or VhostUserPayloadKind.VringFile)
                {
                    Assert.True(m.VringIndex < VhostUserMessageDecoder.MaxVrings);
                }

                if (m.PayloadKind == VhostUserPayloadKind.Memory)
                {
                    Assert.Equal(m.MemoryRegions.Length, m.FdCount);
                    foreach (var r in m.MemoryRegions)
                    {
                        Assert.NotEqual(0UL, r.MemorySize);
                        Assert.True(r.MemorySize <= ulong.MaxValue - r.GuestPhysAddr);
                    }
                }
            }
        }

        Assert.True(accepted > 100, $"only {accepted} random messages were valid: the generator does not reach the payload rules");
    }
}
