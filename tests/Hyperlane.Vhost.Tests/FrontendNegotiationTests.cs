using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>VhostUserFrontend against the fake backend: the message sequence, negotiation, the memory table and where the rings are.</summary>
public class FrontendNegotiationTests
{
    private static readonly VhostUserRequest[] SetupOnePair =
    [
        VhostUserRequest.SetOwner, VhostUserRequest.GetFeatures, VhostUserRequest.GetProtocolFeatures, VhostUserRequest.SetProtocolFeatures,
        VhostUserRequest.GetQueueNum, VhostUserRequest.SetVringCall, VhostUserRequest.SetVringCall, VhostUserRequest.SetFeatures,
        VhostUserRequest.SetMemTable,
        VhostUserRequest.SetVringNum, VhostUserRequest.SetVringBase, VhostUserRequest.SetVringAddr, VhostUserRequest.SetVringKick,
        VhostUserRequest.SetVringNum, VhostUserRequest.SetVringBase, VhostUserRequest.SetVringAddr, VhostUserRequest.SetVringKick,
        VhostUserRequest.SetVringEnable, VhostUserRequest.SetVringEnable,
    ];

    [Fact]
    public void Default_options_follow_dpdk_virtio_user_sequence_and_lay_out_split_rings()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket);
        var frontend = VhostUserFrontend.Connect(Options(dir.Socket), pool);
        try
        {
            backend.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
            Assert.Empty(backend.Errors);
            Assert.Equal(SetupOnePair, backend.Requests());
            Assert.Equal(SetupOnePair, frontend.LastHandshake);

            // DPDK 22.11's virtio_user against a net_vhost offering the same: MRG_RXBUF | PROTOCOL_FEATURES | VERSION_1 | IN_ORDER.
            Assert.Equal(V1 | Proto | Mrg | InOrder, frontend.NegotiatedFeatures);
            Assert.Equal(V1 | Proto | Mrg | InOrder, backend.SetFeaturesValue);
            Assert.Equal((ulong)(VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Mq), backend.SetProtocolValue);
            Assert.Equal(4, frontend.MaxQueuePairs);
            Assert.False(frontend.IsPacked);

            // NEED_REPLY on every request without its own reply once REPLY_ACK is negotiated, never before.
            foreach ((VhostUserRequest request, uint flags, _, _) in backend.Received)
            {
                bool afterProtocol = request is not (VhostUserRequest.SetOwner or VhostUserRequest.GetFeatures or VhostUserRequest.GetProtocolFeatures or VhostUserRequest.SetProtocolFeatures);
                bool expected = afterProtocol && !VhostUserRequestInfo.HasReply(request);
                Assert.True(expected == ((flags & VhostUserHeader.NeedReplyFlag) != 0), $"{request} flags 0x{flags:X}");
            }

            // Memory table: ring area + pool, guest_phys_addr = userspace_addr = VA, mmap_offset 0.
            IReadOnlyList<VhostMemoryRegion> regions = backend.Memory!.Regions;
            Assert.Equal(2, regions.Count);
            Assert.All(regions, r => Assert.Equal(r.GuestPhysAddr, r.UserspaceAddr));
            Assert.All(regions, r => Assert.Equal(0UL, r.MmapOffset));
            Assert.Contains(regions, r => r.UserspaceAddr == (ulong)pool.Region.Address && r.MemorySize == (ulong)pool.Region.Size);

            FrontendFakeBackend.Vring rx = backend.Ring(0);
            Assert.Equal(256u, rx.Num);
            Assert.Equal(0u, rx.Base);
            Assert.Equal(0u, rx.Addr.Flags);
            Assert.NotNull(rx.Kick);
            Assert.NotNull(rx.Call);

            // Read what the frontend posted, through the backend's own mapping at the SET_VRING_ADDR addresses.
            FrontendSplitDevice rxDevice = backend.SplitDevice(0);
            Assert.Equal(VirtqAvailHeader.FlagNoInterrupt, rxDevice.AvailFlags);
            Assert.Equal(256, rxDevice.AvailIdx);
            var heads = new HashSet<ushort>();
            for (int i = 0; i < 256; i++)
            {
                ushort head = rxDevice.AvailEntry(i);
                Assert.True(heads.Add(head));
                VirtqDesc d = rxDevice.Desc(head);
                Assert.Equal(VirtqDescFlags.Write, (VirtqDescFlags)d.Flags);
                Assert.Equal((uint)(Mempool.DefaultDataRoomSize - MbufHeader.DefaultHeadroom + VirtioNetHeader.Size), d.Len);
                Assert.True(pool.Region.Contains((nint)d.Addr, d.Len), "rx buffer outside the pool region");
                Assert.True(backend.Memory.IsMapped(d.Addr, d.Len));
            }

            FrontendSplitDevice txDevice = backend.SplitDevice(1);
            Assert.Equal(0, txDevice.AvailIdx);
            Assert.Equal(VirtqAvailHeader.FlagNoInterrupt, txDevice.AvailFlags);
        }
        finally
        {
            frontend.Dispose();
        }

        // Teardown as DPDK's virtio_user_stop_device: disable, then GET_VRING_BASE, per vring.
        List<VhostUserRequest> all = backend.Requests();
        Assert.Equal(
            [VhostUserRequest.SetVringEnable, VhostUserRequest.SetVringEnable, VhostUserRequest.GetVringBase, VhostUserRequest.GetVringBase],
            all[SetupOnePair.Length..]);
        AssertNoLeak(pool);
    }

    [Fact]
    public void Packed_ring_is_used_when_allowed_and_offered()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket);
        using (var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { PackedRing = true, QueueSize = 128 }, pool))
        {
            backend.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
            Assert.Empty(backend.Errors);
            Assert.True(frontend.IsPacked);
            Assert.Equal(V1 | Proto | Mrg | InOrder | Packed, backend.SetFeaturesValue);
            Assert.Equal(PackedDriverQueue.FreshBase, backend.Ring(0).Base);
            Assert.Equal(128u, backend.Ring(1).Num);

            FrontendPackedDevice rx = backend.PackedDevice(0);
            Assert.Equal((ushort)PackedEventFlags.Disable, rx.DriverEventFlags);
            List<FrontendPackedDevice.Buffer> buffers = rx.PopAll();
            Assert.Equal(128, buffers.Count);
            Assert.Equal(128, buffers.Select(b => b.Id).Distinct().Count());
            Assert.All(buffers, b =>
            {
                VirtqPackedDesc d = Assert.Single(b.Descs);
                Assert.Equal(VirtqDescFlags.Write | VirtqDescFlags.Avail, (VirtqDescFlags)d.Flags);
                Assert.True(pool.Region.Contains((nint)d.Addr, d.Len));
            });
            Assert.Empty(backend.PackedDevice(1).PopAll());
        }

        AssertNoLeak(pool);
    }

    [Theory]
    [InlineData(false, true, true)]   // MRG_RXBUF not offered
    [InlineData(true, false, true)]   // MRG_RXBUF offered but switched off
    [InlineData(true, true, false)]   // IN_ORDER not offered
    public void Optional_features_need_both_the_option_and_the_offer(bool offerMrg, bool allowMrg, bool offerInOrder)
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        ulong offer = FrontendFakeBackend.DpdkLikeFeatures & ~(offerMrg ? 0 : Mrg) & ~(offerInOrder ? 0 : InOrder);
        using var backend = FrontendFakeBackend.Listen(dir.Socket, b => b.Features = offer);
        using var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { MergeableRxBuffers = allowMrg, PackedRing = true }, pool);
        ulong expected = V1 | Proto | Packed | (offerMrg && allowMrg ? Mrg : 0) | (offerInOrder ? InOrder : 0);
        Assert.Equal(expected, frontend.NegotiatedFeatures);
        Assert.Equal(0UL, frontend.NegotiatedFeatures & ~offer); // never a bit the backend did not offer
        backend.WaitUntil(b => b.SetFeaturesValue == expected);
        Assert.Empty(backend.Errors);
    }

    [Fact]
    public void Without_protocol_features_no_protocol_requests_no_acks_no_enable()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket, b => b.Features = V1 | Mrg);
        using (var frontend = VhostUserFrontend.Connect(Options(dir.Socket), pool))
        {
            Assert.Equal(V1 | Mrg, frontend.NegotiatedFeatures);
            backend.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Kick is not null));
            List<VhostUserRequest> requests = backend.Requests();
            Assert.DoesNotContain(VhostUserRequest.GetProtocolFeatures, requests);
            Assert.DoesNotContain(VhostUserRequest.SetVringEnable, requests);
            Assert.All(backend.Received, r => Assert.Equal(0u, r.Flags & VhostUserHeader.NeedReplyFlag));
            Assert.Throws<NotSupportedException>(() => frontend.SetActiveQueuePairs(1));
        }

        AssertNoLeak(pool);
    }

    [Fact]
    public void Two_queue_pairs_use_mq_and_enable_every_vring()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool(4096);
        using var backend = FrontendFakeBackend.Listen(dir.Socket);
        using (var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { QueuePairs = 2, QueueSize = 64 }, pool))
        {
            backend.WaitUntil(b => b.Vrings.Count == 4 && b.Vrings.Values.All(v => v.Enabled));
            Assert.Equal(V1 | Proto | Mrg | InOrder | Mq, backend.SetFeaturesValue); // MQ without CTRL_VQ, as DPDK's virtio_user
            List<(VhostUserRequest Request, uint Flags, int Fds, ulong U64)> calls = [.. backend.Received.Where(r => r.Request == VhostUserRequest.SetVringCall)];
            Assert.Equal([0UL, 2UL, 1UL, 3UL], calls.Select(c => c.U64)); // receive vrings first, as DPDK
            Assert.Equal(2, frontend.QueuePairs);

            frontend.SetActiveQueuePairs(1);
            backend.WaitUntil(b => !b.Vrings[2].Enabled && !b.Vrings[3].Enabled && b.Vrings[0].Enabled);
            Assert.Equal(1, frontend.ActiveQueuePairs);
            Assert.Empty(backend.Errors);
        }

        AssertNoLeak(pool);
    }

    [Fact]
    public void Mq_refused_or_too_few_queues_is_a_clear_exception()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using (FrontendFakeBackend.Listen(dir.Socket, b => b.Features = FrontendFakeBackend.DpdkLikeFeatures & ~Mq))
        {
            var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { QueuePairs = 2 }, pool));
            Assert.Equal(VhostUserRequest.GetFeatures, e.Request);
            Assert.Contains("VIRTIO_NET_F_MQ", e.Message, StringComparison.Ordinal);
        }

        using (FrontendFakeBackend.Listen(dir.Socket, b => b.QueueNum = 2))
        {
            var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { QueuePairs = 3 }, pool));
            Assert.Equal(VhostUserRequest.GetQueueNum, e.Request);
            Assert.Contains("supports 2 queue pairs, 3 requested", e.Message, StringComparison.Ordinal);
        }

        using (FrontendFakeBackend.Listen(dir.Socket, b => b.Protocol = VhostUserProtocolFeatures.ReplyAck))
        {
            var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { QueuePairs = 2 }, pool));
            Assert.Contains("VHOST_USER_PROTOCOL_F_MQ", e.Message, StringComparison.Ordinal);
        }

        AssertNoLeak(pool);
    }

    [Fact]
    public void Backend_without_version_1_is_refused()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket, b => b.Features = Mrg | Proto);
        var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket), pool));
        Assert.Equal(VhostUserRequest.GetFeatures, e.Request);
        Assert.Contains("VIRTIO_F_VERSION_1", e.Message, StringComparison.Ordinal);
        Assert.Contains("MRG_RXBUF | PROTOCOL_FEATURES", e.Message, StringComparison.Ordinal);
        AssertNoLeak(pool);
    }

    [Theory]
    [InlineData(VhostUserRequest.SetFeatures)]
    [InlineData(VhostUserRequest.SetMemTable)]
    [InlineData(VhostUserRequest.SetVringAddr)]
    [InlineData(VhostUserRequest.SetVringEnable)]
    public void A_refused_acknowledgement_names_the_request(VhostUserRequest refused)
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using var backend = FrontendFakeBackend.Listen(dir.Socket, b => b.FailAck = refused);
        var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket), pool));
        Assert.Equal(refused, e.Request);
        Assert.StartsWith(VhostUserRequestInfo.SpecName(refused) + ": the backend refused the request (REPLY_ACK status 1", e.Message, StringComparison.Ordinal);
        AssertNoLeak(pool); // the receive buffers posted before the failure went back
    }

    [Fact]
    public void A_reply_to_the_wrong_request_or_no_reply_is_a_clear_exception()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        using (FrontendFakeBackend.Listen(dir.Socket, b => b.WrongReplyTo = VhostUserRequest.GetFeatures))
        {
            var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket), pool));
            Assert.Equal(VhostUserRequest.GetFeatures, e.Request);
            Assert.Contains("reply is invalid", e.Message, StringComparison.Ordinal);
            Assert.Contains("VHOST_USER_GET_QUEUE_NUM", e.Message, StringComparison.Ordinal);
        }

        using (FrontendFakeBackend.Listen(dir.Socket, b => b.CloseOn = VhostUserRequest.SetMemTable))
        {
            var e = Assert.Throws<VhostUserFrontendException>(() => VhostUserFrontend.Connect(Options(dir.Socket), pool));
            Assert.Equal(VhostUserRequest.SetMemTable, e.Request);
        }

        AssertNoLeak(pool);
    }

    [Fact]
    public void No_backend_times_out_naming_the_path()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        var e = Assert.Throws<TimeoutException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { ConnectTimeout = TimeSpan.FromMilliseconds(200) }, pool));
        Assert.Contains(dir.Socket, e.Message, StringComparison.Ordinal);

        var s = Assert.Throws<TimeoutException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { Server = true, ConnectTimeout = TimeSpan.FromMilliseconds(200) }, pool));
        Assert.Contains(dir.Socket, s.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Socket)); // the listener removed its socket file
    }

    [Fact]
    public void Server_mode_waits_for_the_backend_to_connect()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        FrontendFakeBackend? backend = null;
        var connecting = new Thread(() =>
        {
            Thread.Sleep(100);
            backend = FrontendFakeBackend.ConnectTo(dir.Socket);
        });
        connecting.Start();
        using (var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { Server = true }, pool))
        {
            connecting.Join();
            Assert.True(frontend.IsConnected);
            backend!.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
            Assert.Equal(SetupOnePair, backend.Requests());
            Assert.Empty(backend.Errors);
        }

        backend!.Dispose();
        AssertNoLeak(pool);
    }

    [Fact]
    public void Options_and_pools_are_checked_before_connecting()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        Assert.Throws<ArgumentException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { QueueSize = 100 }, pool));
        Assert.Throws<ArgumentException>(() => VhostUserFrontend.Connect(Options(dir.Socket) with { QueuePairs = 0 }, pool));
        using Mempool anonymous = Mempool.CreatePacketPool("fe-anon", 64, 0, region: new RegionOptions { AllowHugepages = false });
        var e = Assert.Throws<ArgumentException>(() => VhostUserFrontend.Connect(Options(dir.Socket), anonymous));
        Assert.Contains("Shareable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negotiation_rules()
    {
        var options = new VhostUserFrontendOptions { Path = "/x", PackedRing = true };
        Assert.Equal(V1 | Proto | Mrg | InOrder | Packed, FrontendFeatures.Negotiate(ulong.MaxValue, options));
        Assert.Equal(V1, FrontendFeatures.Negotiate(V1, options));

        // Reconnection: exactly the features of the first connection, or a clear refusal.
        Assert.Equal(V1 | Mrg, FrontendFeatures.Negotiate(ulong.MaxValue, options, previous: V1 | Mrg));
        var e = Assert.Throws<VhostUserFrontendException>(() => FrontendFeatures.Negotiate(V1 | Proto, options, previous: V1 | Proto | Packed));
        Assert.Contains("RING_PACKED", e.Message, StringComparison.Ordinal);

        // A size that only a packed ring can have.
        var odd = new VhostUserFrontendOptions { Path = "/x", PackedRing = true, QueueSize = 100 };
        Assert.Equal(V1 | Packed, FrontendFeatures.Negotiate(V1 | Packed, odd));
        Assert.Throws<VhostUserFrontendException>(() => FrontendFeatures.Negotiate(V1, odd));
    }
}
