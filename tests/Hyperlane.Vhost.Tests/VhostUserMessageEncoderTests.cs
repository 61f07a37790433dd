using Hyperlane.Vhost.Protocol;
using static Hyperlane.Vhost.Tests.Wire;

namespace Hyperlane.Vhost.Tests;

/// <summary><see cref="VhostUserMessageEncoder"/> and <see cref="VhostUserMessageDecoder.TryDecodeReply"/>: bytes, round trips and misuse.</summary>
public class VhostUserMessageEncoderTests
{
    private readonly byte[] _buffer = new byte[VhostUserMessageEncoder.MaxMessageSize];

    private static VhostUserMessage RoundTrip(ReadOnlySpan<byte> message, int fds)
    {
        bool ok = VhostUserMessageDecoder.TryDecode(message[..12], message[12..], fds, out var m, out _, out var text);
        Assert.True(ok, text);
        return m!;
    }

    private static VhostUserMessage ReplyRoundTrip(ReadOnlySpan<byte> message, VhostUserRequest expected)
    {
        bool ok = VhostUserMessageDecoder.TryDecodeReply(message[..12], message[12..], 0, expected, out var m, out _, out var text);
        Assert.True(ok, text);
        Assert.True(m!.IsReply);
        return m;
    }

    [Fact]
    public void Request_without_payload_is_the_12_header_bytes()
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.GetFeatures);
        Assert.Equal(12, n);
        Assert.Equal(Header(1, 1, 0), _buffer[..n]);

        n = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.SetOwner, needReply: true);
        Assert.Equal(Header(3, 1 | 8, 0), _buffer[..n]);
    }

    [Fact]
    public void U64_request_round_trips()
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.SetFeatures, 0x1_4000_0000UL, needReply: true);
        Assert.Equal(20, n);
        Assert.Equal([.. Header(2, 9, 8), .. U64(0x1_4000_0000UL)], _buffer[..n]);
        VhostUserMessage m = RoundTrip(_buffer.AsSpan(0, n), 0);
        Assert.Equal(0x1_4000_0000UL, m.U64);
        Assert.True(m.NeedReply);
    }

    [Fact]
    public void Vring_state_request_round_trips()
    {
        int n = VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.SetVringNum, new VhostVringState(1, 1024));
        Assert.Equal(new VhostVringState(1, 1024), RoundTrip(_buffer.AsSpan(0, n), 0).VringState);
    }

    [Fact]
    public void Vring_address_round_trips()
    {
        var addr = new VhostVringAddr(3, 0, 0x7F00_0000_0000, 0x7F00_0000_2000, 0x7F00_0000_1000, 0x2000);
        int n = VhostUserMessageEncoder.EncodeSetVringAddr(_buffer, addr);
        Assert.Equal(52, n);
        Assert.Equal(addr, RoundTrip(_buffer.AsSpan(0, n), 0).VringAddr);
    }

    [Fact]
    public void Vring_file_round_trips_with_and_without_fd()
    {
        int n = VhostUserMessageEncoder.EncodeVringFile(_buffer, VhostUserRequest.SetVringKick, 7, hasFd: true);
        VhostUserMessage m = RoundTrip(_buffer.AsSpan(0, n), 1);
        Assert.Equal(7u, m.VringIndex);
        Assert.True(m.VringFileHasFd);

        n = VhostUserMessageEncoder.EncodeVringFile(_buffer, VhostUserRequest.SetVringCall, 7, hasFd: false);
        m = RoundTrip(_buffer.AsSpan(0, n), 0);
        Assert.False(m.VringFileHasFd);
        Assert.Equal(0x107UL, m.U64);
    }

    [Fact]
    public void Memory_table_is_8_plus_32_per_region_and_round_trips()
    {
        VhostMemoryRegion[] regions =
        [
            Region(0, 0xC000_0000, 0x7F00_0000_0000, 0),
            Region(0x1_0000_0000, 0x4000_0000, 0x7F00_C000_0000, 0xC000_0000),
        ];
        int n = VhostUserMessageEncoder.EncodeSetMemTable(_buffer, regions);
        Assert.Equal(12 + 8 + 64, n);
        Assert.Equal(Header(5, 1, 72), _buffer[..12]);
        Assert.Equal(regions, RoundTrip(_buffer.AsSpan(0, n), 2).MemoryRegions.ToArray());
    }

    [Fact]
    public void Log_base_round_trips()
    {
        int n = VhostUserMessageEncoder.EncodeSetLogBase(_buffer, new VhostUserLog(0x2_0000, 0));
        Assert.Equal(28, n);
        Assert.Equal(0x2_0000UL, RoundTrip(_buffer.AsSpan(0, n), 1).Log.MmapSize);
    }

    [Fact]
    public void Add_and_remove_region_round_trip()
    {
        VhostMemoryRegion r = Region(0x1_0000_0000, 0x1000_0000, 0x7F10_0000_0000, 0);
        int n = VhostUserMessageEncoder.EncodeMemoryRegionRequest(_buffer, VhostUserRequest.AddMemReg, r);
        Assert.Equal(52, n);
        Assert.Equal(r, RoundTrip(_buffer.AsSpan(0, n), 1).MemoryRegion);
        n = VhostUserMessageEncoder.EncodeMemoryRegionRequest(_buffer, VhostUserRequest.RemMemReg, r);
        Assert.Equal(r, RoundTrip(_buffer.AsSpan(0, n), 0).MemoryRegion);
    }

    [Fact]
    public void U64_reply_has_the_reply_flag_and_round_trips()
    {
        int n = VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.GetFeatures, 0x1_7000_8000UL);
        Assert.Equal([.. Header(1, 1 | 4, 8), .. U64(0x1_7000_8000UL)], _buffer[..n]);
        Assert.Equal(0x1_7000_8000UL, ReplyRoundTrip(_buffer.AsSpan(0, n), VhostUserRequest.GetFeatures).U64);
    }

    [Fact]
    public void Vring_base_reply_round_trips()
    {
        int n = VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.GetVringBase, new VhostVringState(1, 42));
        Assert.Equal(new VhostVringState(1, 42), ReplyRoundTrip(_buffer.AsSpan(0, n), VhostUserRequest.GetVringBase).VringState);
    }

    [Fact]
    public void Reply_ack_is_a_u64_for_requests_without_their_own_reply()
    {
        int n = VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.SetVringNum, 0UL);
        VhostUserMessage m = ReplyRoundTrip(_buffer.AsSpan(0, n), VhostUserRequest.SetVringNum);
        Assert.Equal(VhostUserPayloadKind.U64, m.PayloadKind);
        Assert.Equal(0UL, m.U64);
    }

    [Fact]
    public void Log_base_reply_may_be_empty_or_a_u64()
    {
        int n = VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.SetLogBase);
        Assert.Equal(12, n);
        Assert.Equal(VhostUserPayloadKind.None, ReplyRoundTrip(_buffer.AsSpan(0, n), VhostUserRequest.SetLogBase).PayloadKind);
        n = VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.SetLogBase, 0UL);
        Assert.Equal(VhostUserPayloadKind.U64, ReplyRoundTrip(_buffer.AsSpan(0, n), VhostUserRequest.SetLogBase).PayloadKind);
    }

    [Fact]
    public void Reply_without_the_reply_flag_is_rejected()
    {
        byte[] msg = [.. Header(1, 1, 8), .. U64(0)];
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(msg.AsSpan(0, 12), msg.AsSpan(12), 0, VhostUserRequest.GetFeatures, out _, out var error, out _));
        Assert.Equal(VhostUserDecodeError.NotAReply, error);
    }

    [Fact]
    public void Reply_to_another_request_is_rejected()
    {
        byte[] msg = [.. Header(15, 5, 8), .. U64(0)];
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(msg.AsSpan(0, 12), msg.AsSpan(12), 0, VhostUserRequest.GetFeatures, out _, out var error, out var text));
        Assert.Equal(VhostUserDecodeError.RequestMismatch, error);
        Assert.Contains("VHOST_USER_GET_PROTOCOL_FEATURES", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reply_with_need_reply_is_rejected()
    {
        byte[] msg = [.. Header(1, 1 | 4 | 8, 8), .. U64(0)];
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(msg.AsSpan(0, 12), msg.AsSpan(12), 0, VhostUserRequest.GetFeatures, out _, out var error, out _));
        Assert.Equal(VhostUserDecodeError.ReservedFlags, error);
    }

    [Fact]
    public void Reply_with_fds_or_the_wrong_size_is_rejected()
    {
        byte[] msg = [.. Header(1, 5, 8), .. U64(0)];
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(msg.AsSpan(0, 12), msg.AsSpan(12), 1, VhostUserRequest.GetFeatures, out _, out var error, out _));
        Assert.Equal(VhostUserDecodeError.FdCount, error);

        byte[] shortMsg = [.. Header(1, 5, 4), 0, 0, 0, 0];
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(shortMsg.AsSpan(0, 12), shortMsg.AsSpan(12), 0, VhostUserRequest.GetFeatures, out _, out error, out _));
        Assert.Equal(VhostUserDecodeError.PayloadSize, error);

        byte[] big = Header(1, 5, 1000);
        Assert.False(VhostUserMessageDecoder.TryDecodeReply(big, [], 0, VhostUserRequest.GetFeatures, out _, out error, out _));
        Assert.Equal(VhostUserDecodeError.PayloadTooLarge, error);
    }

    [Fact]
    public void Payload_shape_that_does_not_match_the_request_throws()
    {
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.GetFeatures, 1UL));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.SetFeatures));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.SetFeatures, new VhostVringState(0, 1)));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(_buffer, VhostUserRequest.IotlbMsg));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeVringFile(_buffer, VhostUserRequest.SetVringNum, 0, true));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeMemoryRegionRequest(_buffer, VhostUserRequest.SetMemTable, default));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.GetFeatures, new VhostVringState(0, 0)));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.GetVringBase, 0UL));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeReply(_buffer, VhostUserRequest.GetFeatures));
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(new byte[11], VhostUserRequest.GetFeatures));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeRequest(new byte[19], VhostUserRequest.SetFeatures, 1UL));
        Assert.Throws<ArgumentException>(() => VhostUserMessageEncoder.EncodeSetMemTable(new byte[51], [Region(0, 1, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => VhostUserMessageEncoder.EncodeSetMemTable(_buffer, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => VhostUserMessageEncoder.EncodeSetMemTable(_buffer, new VhostMemoryRegion[9]));
        Assert.Throws<ArgumentOutOfRangeException>(() => VhostUserMessageEncoder.EncodeVringFile(_buffer, VhostUserRequest.SetVringKick, 256, true));
    }
}
