using System.Buffers.Binary;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>A well-behaved frontend against <see cref="VhostUserBackend"/> in server mode.</summary>
[Collection(SessionCollection.Name)]
public class SessionBackendTests
{
    [Fact]
    public void Offers_the_configured_features_protocol_features_and_queue_count()
    {
        using var h = SessionHarness.Create(queuePairs: 4);
        using var fe = h.Connect();
        Assert.Equal(VhostUserBackendOptions.DefaultFeatures, fe.GetU64(VhostUserRequest.GetFeatures));
        Assert.Equal((ulong)VhostUserBackendOptions.DefaultProtocolFeatures, fe.GetU64(VhostUserRequest.GetProtocolFeatures));
        Assert.Equal(4UL, fe.GetU64(VhostUserRequest.GetQueueNum));
        Assert.Equal(8, h.Backend.Slots.Count);
        Assert.Equal(3, h.Backend.Slots[3].Index);
    }

    [Fact]
    public void Tso_option_adds_host_tso_and_checksum()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"hl-vu-tso-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(directory);
        try
        {
            var options = new VhostUserBackendOptions { SocketPath = Path.Combine(directory, "s"), Tso = true };
            Assert.Equal(VhostUserBackendOptions.DefaultFeatures | VhostUserBackendOptions.TsoFeatures, options.OfferedFeatures);
            using var backend = new VhostUserBackend(options);
            backend.Start();
            using var fe = SessionTestFrontend.Connect(options.SocketPath);
            Assert.Equal(options.OfferedFeatures, fe.GetU64(VhostUserRequest.GetFeatures));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/x", QueuePairs = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/x", QueuePairs = 129 }));
        Assert.Throws<ArgumentException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/x", Features = 1UL << VirtioFeatures.AccessPlatform }));
        Assert.Throws<ArgumentException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/x", ProtocolFeatures = VhostUserProtocolFeatures.BackendReq }));
        Assert.Throws<ArgumentException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/" + new string('a', 120) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhostUserBackend(new VhostUserBackendOptions { SocketPath = "/tmp/x", MessageTimeout = TimeSpan.Zero }));
    }

    [Fact]
    public void Becomes_ready_and_a_packet_enqueued_through_the_slot_appears_in_the_rx_ring()
    {
        using var h = SessionHarness.Create();
        string? readyThread = null;
        int readyCount = 0;
        h.Backend.Ready += (_, _) =>
        {
            readyThread = Thread.CurrentThread.Name;
            Interlocked.Increment(ref readyCount);
        };

        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        const VhostUserProtocolFeatures Protocol = SessionHarness.BasicProtocol | VhostUserProtocolFeatures.Status;
        (SessionSplitRing rx, SessionSplitRing tx) = h.SetUpSplit(fe, guest, protocol: Protocol);

        // Both rings have queues, but with STATUS negotiated DPDK waits for DRIVER_OK.
        Assert.True(h.Backend.Slots[0].IsActive);
        Assert.True(h.Backend.Slots[1].IsActive);
        Assert.IsType<SplitVhostQueue>(h.Backend.Slots[0].Current);
        Assert.False(h.Backend.IsReady);
        fe.SetU64(VhostUserRequest.SetStatus, 0x0F);
        Assert.Equal(0x0FUL, fe.GetU64(VhostUserRequest.GetStatus));
        SessionWait.AssertUntil(() => h.Backend.IsReady, "IsReady");
        Assert.Equal("vhost-user", readyThread);
        Assert.Equal(1, readyCount);
        Assert.Equal(SessionHarness.SplitFeatures, h.Backend.NegotiatedFeatures);

        // Host → guest: one 60-byte frame into a 2 KiB receive buffer.
        rx.PostRx(0x10000, 2048);
        using Mempool pool = SessionHarness.CreatePool();
        byte[] frame = SessionHarness.Frame(60, 7);
        Mbuf m = SessionHarness.Packet(pool, frame);
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? queue));
        int delivered;
        try
        {
            delivered = queue.Enqueue([m]);
        }
        finally
        {
            h.Backend.Slots[0].Exit();
        }

        m.Free();
        Assert.Equal(1, delivered);
        Assert.Equal(1, rx.UsedIdx);
        (uint id, uint length) = rx.UsedElem(0);
        Assert.Equal(0u, id);
        Assert.Equal((uint)(VirtioNetHeader.Size + frame.Length), length);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(guest.At(0x10000 + 10, 2))); // num_buffers
        Assert.Equal(frame, guest.At(0x10000 + VirtioNetHeader.Size, frame.Length).ToArray());

        // Guest → host: two frames.
        byte[] txFrame = SessionHarness.Frame(100, 3);
        var bytes = new byte[VirtioNetHeader.Size + txFrame.Length];
        txFrame.CopyTo(bytes, VirtioNetHeader.Size);
        tx.PostTx(0x20000, bytes);
        tx.PostTx(0x21000, bytes);
        var got = new Mbuf[4];
        Assert.True(h.Backend.Slots[1].TryEnter(out IVhostQueue? txQueue));
        int n;
        try
        {
            n = txQueue.Dequeue(pool, got);
        }
        finally
        {
            h.Backend.Slots[1].Exit();
        }

        Assert.Equal(2, n);
        var copy = new byte[txFrame.Length];
        Assert.Equal(txFrame.Length, got[0].CopyTo(copy));
        Assert.Equal(txFrame, copy);
        Mbuf.FreeBulk(got.AsSpan(0, n));

        // GET_VRING_BASE stops the rings at the next avail index each: 1 buffer taken from rx, 2 from tx.
        int downCount = 0;
        h.Backend.Disconnected += (_, _) => Interlocked.Increment(ref downCount);
        Assert.Equal(1u, fe.GetVringBase(0));
        Assert.False(h.Backend.Slots[0].IsActive);
        Assert.Equal(2u, fe.GetVringBase(1));
        Assert.False(h.Backend.Slots[1].IsActive);
        SessionWait.AssertUntil(() => !h.Backend.IsReady && downCount == 1, "link down after GET_VRING_BASE");
        Assert.Equal(1, h.Backend.Slots[0].RetiredPackets);
        Assert.Equal(2, h.Backend.Slots[1].RetiredPackets);
        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);
        Assert.Equal(0, h.Counters.MalformedMessages);
    }

    [Fact]
    public void Rings_restart_at_the_base_after_GET_VRING_BASE_and_a_new_kick()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        (SessionSplitRing rx, _) = h.SetUpSplit(fe, guest);
        Assert.True(h.Backend.Slots[0].IsActive);
        rx.PostRx(0x10000, 2048);
        rx.PostRx(0x11000, 2048);
        using Mempool pool = SessionHarness.CreatePool();
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? q));
        Mbuf m = SessionHarness.Packet(pool, SessionHarness.Frame(64, 1));
        Assert.Equal(1, q.Enqueue([m]));
        h.Backend.Slots[0].Exit();
        Assert.Equal(1u, fe.GetVringBase(0));

        // The ring stays stopped until a new kick; it then resumes where it stopped (base 1), with the second buffer.
        Assert.False(h.Backend.Slots[0].IsActive);
        fe.SetVringFile(VhostUserRequest.SetVringKick, 0, null);
        Assert.True(h.Backend.Slots[0].TryEnter(out q));
        Assert.Equal(1, q.Enqueue([m]));
        Assert.Equal(2u, q.GetBase());
        h.Backend.Slots[0].Exit();
        m.Free();
        Assert.Equal(2, rx.UsedIdx);
        Assert.Equal(1u, rx.UsedElem(1).Id);
    }

    [Fact]
    public void A_set_base_is_used_by_the_queue_and_reported_back()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        var rx = SessionSplitRing.Standard(guest, 0);
        rx.StartAt(0xFFFE); // wraps the 16-bit index
        fe.SetupSplitRing(rx);
        Assert.Equal(0xFFFEu, h.Backend.Slots[0].Current!.GetBase());
        Assert.Equal(0xFFFEu, fe.GetVringBase(0));
    }

    [Fact]
    public void GET_VRING_BASE_with_a_non_zero_num_is_answered_as_DPDK_virtio_user_sends_it()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        h.SetUpSplit(fe, guest);

        // virtio_user (DPDK 22.11) stops the device with GET_VRING_BASE { index, num = ring size }.
        fe.SendRaw(SessionTestFrontend.Raw((uint)VhostUserRequest.GetVringBase, VhostUserHeader.Version, VhostVringState.Size, BitConverter.GetBytes(256UL << 32 | 1)));
        VhostVringState state = fe.ReadReply(VhostUserRequest.GetVringBase).VringState;
        Assert.Equal(1u, state.Index);
        Assert.Equal(0u, state.Num);
        Assert.False(h.Backend.Slots[1].IsActive);
        Assert.Equal(0, h.Counters.MalformedMessages);
    }

    [Fact]
    public void Packed_ring_is_built_when_RING_PACKED_is_negotiated_and_keeps_QEMU_style_bases()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.PackedFeatures, SessionHarness.BasicProtocol);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        for (uint i = 0; i < 2; i++)
        {
            ulong desc = 0x1000 + (0x3000UL * i);
            ulong driverEvent = 0x2000 + (0x3000UL * i);
            ulong deviceEvent = 0x3000 + (0x3000UL * i);
            var addr = new VhostVringAddr(i, 0, SessionTestGuest.User(desc), SessionTestGuest.User(deviceEvent), SessionTestGuest.User(driverEvent), deviceEvent);

            // A packed ring size need not be a power of two; QEMU sends avail | wrap << 15 | (used | wrap << 15) << 16.
            fe.SetupRing(i, 200, 0x8000_8000, addr);
        }

        Assert.IsType<PackedVhostQueue>(h.Backend.Slots[0].Current);
        Assert.IsType<PackedVhostQueue>(h.Backend.Slots[1].Current);
        SessionWait.AssertUntil(() => h.Backend.IsReady, "IsReady");
        Assert.Equal(0x8000_8000u, fe.GetVringBase(1));
    }

    [Fact]
    public void Without_PROTOCOL_FEATURES_rings_start_enabled()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        const ulong Features = (1UL << VirtioFeatures.Version1) | (1UL << VirtioFeatures.NetMrgRxbuf);
        fe.Request(VhostUserRequest.SetOwner, needReply: false);
        fe.SetU64(VhostUserRequest.SetFeatures, Features);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        fe.SetupSplitRing(SessionSplitRing.Standard(guest, 0), enable: false);
        fe.SetupSplitRing(SessionSplitRing.Standard(guest, 1), enable: false);
        SessionWait.AssertUntil(() => h.Backend.IsReady, "IsReady without SET_VRING_ENABLE");
    }

    [Fact]
    public void With_PROTOCOL_FEATURES_rings_wait_for_SET_VRING_ENABLE_and_disable_retires_them()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        fe.SetupSplitRing(SessionSplitRing.Standard(guest, 0), enable: false);
        fe.SetupSplitRing(SessionSplitRing.Standard(guest, 1), enable: false);
        Assert.False(h.Backend.Slots[0].IsActive);
        fe.SetVringState(VhostUserRequest.SetVringEnable, 0, 1);
        fe.SetVringState(VhostUserRequest.SetVringEnable, 1, 1);
        Assert.True(h.Backend.Slots[0].IsActive);
        SessionWait.AssertUntil(() => h.Backend.IsReady, "IsReady");
        fe.SetVringState(VhostUserRequest.SetVringEnable, 1, 0);
        Assert.False(h.Backend.Slots[1].IsActive);
        SessionWait.AssertUntil(() => !h.Backend.IsReady, "not ready after disable");
    }

    [Fact]
    public void Memory_table_set_before_features_and_rings_in_any_order()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest(fileOffset: 1 << 20); // the region starts 1 MiB into the memfd
        using var fe = h.Connect();
        var rx = SessionSplitRing.Standard(guest, 0);
        var tx = SessionSplitRing.Standard(guest, 1);
        fe.Request(VhostUserRequest.SetOwner);
        fe.SetupSplitRing(rx);
        fe.SetupSplitRing(tx);
        Assert.False(h.Backend.Slots[0].IsActive); // no features, no memory yet
        fe.SetMemTable([guest.Region], [guest.Fd]);
        Assert.False(h.Backend.Slots[0].IsActive);
        fe.SetU64(VhostUserRequest.SetFeatures, SessionHarness.SplitFeatures);
        Assert.True(h.Backend.Slots[0].IsActive);
        Assert.True(h.Backend.Slots[1].IsActive);

        rx.PostRx(0x10000, 2048);
        using Mempool pool = SessionHarness.CreatePool();
        Mbuf m = SessionHarness.Packet(pool, SessionHarness.Frame(80, 9));
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? q));
        Assert.Equal(1, q.Enqueue([m]));
        h.Backend.Slots[0].Exit();
        m.Free();
        Assert.Equal(1, rx.UsedIdx);
    }

    [Fact]
    public void Same_memory_table_again_is_kept_and_its_fds_closed()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        h.SetUpSplit(fe, guest);
        IVhostQueue? before = h.Backend.Slots[0].Current;
        int mappings = SessionWait.Mappings(guest.Name);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        Assert.Same(before, h.Backend.Slots[0].Current);
        Assert.Equal(mappings, SessionWait.Mappings(guest.Name));
        Assert.True(h.Logger.Contains("kept it"));
    }

    [Fact]
    public void Reconnects_after_the_frontend_disconnects()
    {
        using var h = SessionHarness.Create();
        int up = 0, down = 0;
        h.Backend.Ready += (_, _) => Interlocked.Increment(ref up);
        h.Backend.Disconnected += (_, _) => Interlocked.Increment(ref down);
        using var guest = new SessionTestGuest();
        IVhostQueue? first;
        using (SessionTestFrontend fe = h.Connect())
        {
            h.SetUpSplit(fe, guest);
            SessionWait.AssertUntil(() => h.Backend.IsReady, "ready (first frontend)");
            first = h.Backend.Slots[0].Current;
        }

        SessionWait.AssertUntil(() => !h.Backend.IsConnected && down == 1, "disconnect seen");
        Assert.False(h.Backend.Slots[0].IsActive);
        Assert.False(h.Backend.Slots[1].IsActive);
        Assert.Equal(1, h.Counters.Disconnects);
        Assert.Equal(1, SessionWait.Mappings(guest.Name)); // only the test's own mapping is left

        using (SessionTestFrontend fe = h.Connect())
        {
            h.SetUpSplit(fe, guest);
            SessionWait.AssertUntil(() => h.Backend.IsReady && up == 2, "ready (second frontend)");
            Assert.NotSame(first, h.Backend.Slots[0].Current);
        }

        SessionWait.AssertUntil(() => down == 2, "second disconnect seen");
        Assert.Equal(2, h.Counters.ConnectionsAccepted);
        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);
    }

    [Fact]
    public void A_second_frontend_is_refused_while_one_is_connected()
    {
        using var h = SessionHarness.Create();
        using var first = h.Connect();
        Assert.NotEqual(0UL, first.GetU64(VhostUserRequest.GetFeatures));
        using (SessionTestFrontend second = h.Connect())
        {
            Assert.True(second.WaitForClose(), "the second connection should be closed");
        }

        Assert.Equal(1, h.Counters.ConnectionsRefused);
        Assert.True(h.Logger.Contains("refused a second frontend connection"));
        Assert.NotEqual(0UL, first.GetU64(VhostUserRequest.GetFeatures));
    }

    [Fact]
    public void RESET_OWNER_retires_everything_and_the_frontend_can_start_again()
    {
        using var h = SessionHarness.Create();
        int down = 0;
        h.Backend.Disconnected += (_, _) => Interlocked.Increment(ref down);
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        h.SetUpSplit(fe, guest);
        SessionWait.AssertUntil(() => h.Backend.IsReady, "ready");
        fe.Request(VhostUserRequest.ResetOwner);
        Assert.False(h.Backend.Slots[0].IsActive);
        Assert.Equal(0UL, h.Backend.NegotiatedFeatures);
        SessionWait.AssertUntil(() => !h.Backend.IsReady && down == 1, "link down after RESET_OWNER");
        Assert.Equal(1, SessionWait.Mappings(guest.Name));
        h.SetUpSplit(fe, guest);
        SessionWait.AssertUntil(() => h.Backend.IsReady, "ready again");
    }

    [Fact]
    public void RARP_and_MTU_are_raised_as_events_on_the_session_thread()
    {
        using var h = SessionHarness.Create();
        MacAddress? mac = null;
        int mtu = 0;
        string? thread = null;
        h.Backend.RarpRequested += (_, m) =>
        {
            mac = m;
            thread = Thread.CurrentThread.Name;
        };
        h.Backend.MtuSet += (_, v) => mtu = v;
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures | (1UL << VirtioFeatures.NetMtu), SessionHarness.BasicProtocol | VhostUserProtocolFeatures.Rarp | VhostUserProtocolFeatures.NetMtu);

        // "The first 6 bytes of the payload contain the mac address": 52:54:00:12:34:56 in memory order.
        ulong payload = BinaryPrimitives.ReadUInt64LittleEndian(new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0 });
        fe.SetU64(VhostUserRequest.SendRarp, payload);
        fe.SetU64(VhostUserRequest.NetSetMtu, 9000);
        SessionWait.AssertUntil(() => mac is not null && mtu == 9000, "events");
        Assert.Equal(new MacAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), mac);
        Assert.Equal(mac, h.Backend.LastRarpMac);
        Assert.Equal(9000, h.Backend.Mtu);
        Assert.Equal("vhost-user", thread);
    }

    [Fact]
    public void A_throwing_event_handler_is_logged_and_the_session_goes_on()
    {
        using var h = SessionHarness.Create();
        h.Backend.MtuSet += (_, _) => throw new InvalidOperationException("handler bug");
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol | VhostUserProtocolFeatures.NetMtu);
        fe.SetU64(VhostUserRequest.NetSetMtu, 1500);
        Assert.NotEqual(0UL, fe.GetU64(VhostUserRequest.GetFeatures));
        SessionWait.AssertUntil(() => h.Logger.Contains("a handler of the MtuSet event threw"), "log");
    }

    [Fact]
    public void Unsupported_requests_are_logged_counted_and_nacked_and_the_connection_stays()
    {
        using var h = SessionHarness.Create();
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol);

        // GET_CONFIG (PROTOCOL_F_CONFIG never offered): a 12 + 256-byte config payload, larger than any supported payload.
        var config = new byte[12 + 256];
        fe.SendRaw(SessionTestFrontend.Raw((uint)VhostUserRequest.GetConfig, VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag, (uint)config.Length, config));
        Assert.NotEqual(0UL, fe.ReadAck(VhostUserRequest.GetConfig));

        // ADD_MEM_REG with its fd (CONFIGURE_MEM_SLOTS never offered): the fd is closed, a failure is acknowledged.
        using (var guest = new SessionTestGuest(1 << 20))
        {
            var buffer = new byte[64];
            int n = VhostUserMessageEncoder.EncodeMemoryRegionRequest(buffer, VhostUserRequest.AddMemReg, guest.Region, needReply: true);
            fe.SendRaw(buffer.AsSpan(0, n), guest.Fd);
            Assert.NotEqual(0UL, fe.ReadAck(VhostUserRequest.AddMemReg));
        }

        // Without NEED_REPLY: ignored.
        fe.SetVringState(VhostUserRequest.SetVringEndian, 0, 0, needReply: false);
        Assert.NotEqual(0UL, fe.GetU64(VhostUserRequest.GetFeatures));
        Assert.Equal(3, h.Counters.UnsupportedRequests);
        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);
        Assert.True(h.Logger.Contains("VHOST_USER_GET_CONFIG (24) is not supported"));
        Assert.True(h.Logger.Contains("VHOST_USER_ADD_MEM_REG (37) is not supported"));
        Assert.True(h.Logger.Contains("VHOST_USER_SET_VRING_ENDIAN (23) is not supported"));
    }

    [Fact]
    public void Dispose_retires_the_queues_unmaps_memory_and_removes_the_socket()
    {
        var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        SessionTestFrontend fe = h.Connect();
        h.SetUpSplit(fe, guest);
        Assert.Equal(2, SessionWait.Mappings(guest.Name));
        h.Backend.Dispose();
        Assert.False(h.Backend.Slots[0].IsActive);
        Assert.Equal(1, SessionWait.Mappings(guest.Name));
        Assert.False(File.Exists(h.SocketPath));
        Assert.True(fe.WaitForClose());
        fe.Dispose();
        h.Dispose();
    }

    [Fact]
    public void Listen_fails_clearly_when_the_path_is_not_a_socket()
    {
        using var h = SessionHarness.Create(start: false);
        File.WriteAllText(h.SocketPath, "not a socket");
        LinuxException ex = Assert.Throws<LinuxException>(h.Backend.Start);
        Assert.Contains("not a socket", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SET_VRING_CALL_on_a_live_ring_rebuilds_its_queue_with_the_new_eventfd()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        (SessionSplitRing rx, _) = h.SetUpSplit(fe, guest);
        IVhostQueue? before = h.Backend.Slots[0].Current;
        using var call = new EventFd();
        fe.SetVringFile(VhostUserRequest.SetVringCall, 0, call.Handle);
        IVhostQueue? after = h.Backend.Slots[0].Current;
        Assert.NotNull(after);
        Assert.NotSame(before, after);

        // The new queue interrupts the guest through the call fd.
        rx.PostRx(0x10000, 2048);
        using Mempool pool = SessionHarness.CreatePool();
        Mbuf m = SessionHarness.Packet(pool, SessionHarness.Frame(64, 2));
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? q));
        Assert.Equal(1, q.Enqueue([m]));
        h.Backend.Slots[0].Exit();
        m.Free();
        Assert.True(call.TryRead(out ulong interrupts).IsSuccess);
        Assert.True(interrupts >= 1);
    }
}
