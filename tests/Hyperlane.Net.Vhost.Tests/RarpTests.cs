using System.Buffers.Binary;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// VHOST_USER_SEND_RARP (sent by QEMU after a live migration): the next RxBurst on net_vhost's Rx queue 0 starts
/// with a RARP frame from the announced MAC, before any guest packet, so a switch relearns where the guest is.
/// Neither virtio_user sends it, so a frontend written message by message (<see cref="RawVhostFrontend"/>) does.
/// </summary>
public sealed class RarpTests
{
    private static readonly MacAddress GuestMac = MacAddress.Parse("52:54:00:12:34:56");

    private const VhostUserProtocolFeatures WithRarp = VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Mq | VhostUserProtocolFeatures.Rarp;

    [Fact]
    public void After_send_rarp_rx_queue_0_returns_the_rarp_frame_before_the_guests_packets()
    {
        using var lab = new VhostLab();
        var vhost = lab.ProbeVhost("queues=2");
        var pool = lab.Pool("vh", 1024, shareable: false);
        VhostLab.Setup(vhost, 2, pool);
        vhost.Start();
        using var guest = RawVhostFrontend.Connect(lab.Socket);
        guest.Negotiate(WithRarp);
        guest.SetUpRings();
        lab.WaitLink(vhost, true);

        // A guest packet waits in the transmitq before the announcement arrives.
        byte[] frame = TestFrames.Make(200, 1, 0, TestFrames.HostMac, GuestMac);
        guest.Transmit(frame);
        Assert.Equal(0UL, guest.SendRarp(GuestMac));
        Wait.Until(() => Volatile.Read(ref vhost.PendingRarp) != 0, () => "the port to take the RARP request", VhostLab.Timeout);

        var burst = new Mbuf[8];
        Assert.Equal(0, vhost.RxBurst(1, burst)); // only queue 0 announces
        int n = vhost.RxBurst(0, burst);

        Assert.True(n == 2, $"{n} packets: the RARP frame and the guest's packet expected");
        AssertRarp(LabFrames.Bytes(burst[0]), GuestMac);
        Assert.Equal(vhost.PortId, burst[0].Port);
        Assert.Equal(pool, burst[0].Pool);
        Assert.Equal(frame, LabFrames.Bytes(burst[1]));
        Mbuf.FreeBulk(burst.AsSpan(0, n));
        Assert.Equal(1, guest.TxUsed);

        // Once only.
        Assert.Equal(0, vhost.RxBurst(0, burst));
        var x = vhost.GetXStats().ToDictionary(v => v.Name, v => v.Value);
        Assert.Equal(1, x["vhost_rarp_requests"]);
        Assert.Equal(1, x["rx_q0_broadcast_packets"]);
        Assert.Equal(1, x["rx_q0_undersize_packets"]);      // the 60-byte RARP frame (no FCS)
        Assert.Equal(1, x["rx_q0_size_128_to_255_packets"]); // the guest's frame
        Assert.Equal(2, vhost.GetStats().RxPackets);
        Assert.Equal(GuestMac, vhost.Backend.LastRarpMac);
        VhostLab.AssertNoLeak(pool);
    }

    [Fact]
    public void A_rarp_request_alone_is_returned_by_itself()
    {
        using var lab = new VhostLab();
        var vhost = lab.ProbeVhost();
        VhostLab.Setup(vhost, 1, lab.Pool("vh", 1024, shareable: false));
        vhost.Start();
        using var guest = RawVhostFrontend.Connect(lab.Socket);
        guest.Negotiate(WithRarp);
        guest.SetUpRings();
        var mac = MacAddress.Parse("02:aa:bb:cc:dd:ee");

        Assert.Equal(0UL, guest.SendRarp(mac));
        Wait.Until(() => Volatile.Read(ref vhost.PendingRarp) != 0, () => "the port to take the RARP request", VhostLab.Timeout);
        var burst = new Mbuf[4];
        int n = vhost.RxBurst(0, burst);

        Assert.Equal(1, n);
        AssertRarp(LabFrames.Bytes(burst[0]), mac);
        burst[0].Free();
        Assert.Equal(0, vhost.RxBurst(0, burst));
    }

    [Fact]
    public void Send_rarp_without_the_rarp_protocol_feature_is_a_violation_and_announces_nothing()
    {
        using var lab = new VhostLab();
        var vhost = lab.ProbeVhost();
        VhostLab.Setup(vhost, 1, lab.Pool("vh", 1024, shareable: false));
        vhost.Start();
        using var guest = RawVhostFrontend.Connect(lab.Socket);
        guest.Negotiate(VhostUserProtocolFeatures.ReplyAck);
        guest.SetUpRings();

        Assert.NotEqual(0UL, guest.SendRarp(GuestMac)); // a failure acknowledgement, then the backend hangs up
        Assert.True(guest.WaitForClose(), "the backend should drop a frontend that breaks the protocol");

        Wait.Until(() => vhost.GetXStats().Single(x => x.Name == "vhost_protocol_violations").Value == 1, () => "the violation counted", VhostLab.Timeout);
        Assert.Equal(0, vhost.GetXStats().Single(x => x.Name == "vhost_rarp_requests").Value);
        Assert.Equal(0UL, Volatile.Read(ref vhost.PendingRarp));
        Assert.Equal(0, vhost.RxBurst(0, new Mbuf[4]));
    }

    [Fact]
    public void The_rarp_frame_is_a_60_byte_reverse_request_from_the_mac_as_rfc_903()
    {
        using var pool = Mempool.CreatePacketPool($"nv-rarp-{Environment.ProcessId}", 8, cacheSize: 0);
        Mbuf m = pool.Alloc();

        Assert.True(RarpFrame.TryWrite(m, GuestMac));

        byte[] expected =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x80, 0x35, // Ethernet, RARP
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03, // Ethernet/IPv4, reverse request
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0, 0, 0, // sender MAC, IP 0
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0, 0, 0, // target MAC, IP 0
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // padding to 60
        ];
        Assert.Equal(expected, LabFrames.Bytes(m));
        m.Free();
    }

    [Fact]
    public void The_rarp_frame_builder_refuses_an_mbuf_without_room_for_60_bytes()
    {
        using var pool = Mempool.CreatePacketPool($"nv-rarp-small-{Environment.ProcessId}", 8, cacheSize: 0, dataRoomSize: MbufHeader.DefaultHeadroom + 59);
        Mbuf m = pool.Alloc();

        Assert.False(RarpFrame.TryWrite(m, GuestMac));
        Assert.Equal(0u, m.PacketLength);
        m.Free();
    }

    private static void AssertRarp(byte[] f, MacAddress mac)
    {
        Assert.Equal(RarpFrame.Length, f.Length);
        Assert.Equal(MacAddress.Broadcast, MacAddress.Read(f));
        Assert.Equal(mac, MacAddress.Read(f.AsSpan(6)));
        Assert.Equal(0x8035, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14)));       // hardware: Ethernet
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16)));  // protocol: IPv4
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(20)));       // opcode: reverse request
        Assert.Equal(mac, MacAddress.Read(f.AsSpan(22)));
        Assert.Equal(mac, MacAddress.Read(f.AsSpan(32)));
    }
}
