using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Hostile frontends (hardening.md §3.6, VU-01 to VU-07): every case must end with the connection dropped, the
/// message counted and logged by name with what was wrong, every fd it carried closed, and the backend alive and
/// accepting the next frontend.
/// </summary>
[Collection(SessionCollection.Name)]
public class SessionHostileTests
{
    private const uint V = VhostUserHeader.Version;
    private const uint NeedReply = VhostUserHeader.NeedReplyFlag;

    /// <summary>Case name → (what the frontend does, text the log must contain, whether it is malformed (decoder/socket) rather than a refusal by the session).</summary>
    private static readonly Dictionary<string, (Action<SessionTestFrontend, SessionTestGuest> Act, string Log, bool Malformed)> Cases = new()
    {
        // VU-01: sizes and header fields.
        ["get-features-with-payload"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(1, V, 8, new byte[8])), "malformed VHOST_USER_GET_FEATURES message", true),
        ["set-features-short-payload"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(2, V, 4, new byte[4])), "malformed VHOST_USER_SET_FEATURES message", true),
        ["vring-state-short-payload"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(8, V, 6, new byte[6])), "malformed VHOST_USER_SET_VRING_NUM message", true),
        ["payload-larger-than-any"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(5, V, 100_000)), "is larger than the largest payload", true),
        ["unknown-request"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(99, V, 0)), "unknown vhost-user request 99", true),
        ["request-none"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(0, V, 0)), "unknown vhost-user request 0", true),
        ["reply-flag-on-request"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(1, V | VhostUserHeader.ReplyFlag, 0)), "the REPLY flag (0x4) is set on a request", true),
        ["bad-version"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(1, 2, 0)), "carry version 2", true),
        ["reserved-flag"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(1, V | 0x100, 0)), "reserved flag bits", true),

        // VU-02: fds.
        ["nine-regions-nine-fds"] = ((fe, g) => SendMemTable(fe, Regions(g, 9), Fds(g, 9)), "more than 8 file descriptors", true),
        ["nregions-9"] = ((fe, g) => SendMemTableClaiming(fe, 9, Regions(g, 8), Fds(g, 8)), "nregions is 9", true),
        ["nregions-0"] = ((fe, g) => SendMemTableClaiming(fe, 0, Regions(g, 1), []), "nregions is 0", true),
        ["fewer-fds-than-regions"] = ((fe, g) => SendMemTable(fe, Regions(g, 2), Fds(g, 1)), "expected one per region (2)", true),
        ["more-fds-than-regions"] = ((fe, g) => SendMemTable(fe, Regions(g, 1), Fds(g, 2)), "expected one per region (1)", true),
        ["fd-on-get-features"] = ((fe, g) => fe.SendRaw(SessionTestFrontend.Raw(1, V, 0), g.Fd), "1 fds received, expected none", true),
        ["kick-without-fd"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(12, V, 8, BitConverter.GetBytes(0UL))), "expected exactly one", true),
        ["kick-nofd-with-fd"] = ((fe, g) => fe.SendRaw(SessionTestFrontend.Raw(12, V, 8, BitConverter.GetBytes(0x100UL)), g.Fd), "expected none (the invalid-FD bit", true),
        ["fds-with-payload-bytes"] = ((fe, g) =>
        {
            fe.SendRaw(SessionTestFrontend.Raw(2, V, 8)); // header alone
            fe.SendRaw(new byte[8], g.Fd); // the payload with an fd attached
        }, "sent file descriptors with VHOST_USER_SET_FEATURES payload", true),

        // Memory that cannot be mapped (VU-07 and bad fds).
        ["pipe-as-memory"] = ((fe, g) =>
        {
            Assert.True(Syscalls.Pipe(false, out SafeFd? r, out SafeFd? w).IsSuccess);
            using (r)
            using (w)
            {
                SendMemTable(fe, [g.RegionAt(0, 1 << 20)], [r!]);
            }
        }, "cannot be mapped", false),
        ["eventfd-as-memory"] = ((fe, g) =>
        {
            using var e = new EventFd();
            SendMemTable(fe, [g.RegionAt(0, 1 << 20)], [e.Handle]);
        }, "cannot be mapped", false),
        ["read-only-memfd"] = ((fe, g) =>
        {
            Assert.True(Syscalls.Open($"/proc/self/fd/{g.Fd.Fd}", Syscalls.O_RDONLY, out SafeFd? ro).IsSuccess);
            using (ro)
            {
                SendMemTable(fe, [g.RegionAt(0, 1 << 20)], [ro!]);
            }
        }, "cannot be mapped", false),
        ["region-beyond-file"] = ((fe, g) => SendMemTable(fe, [new VhostMemoryRegion(0, g.Size + 4096, SessionTestGuest.UserBase, 0)], [g.Fd]), "beyond the end of the file", false),
        ["offset-beyond-file"] = ((fe, g) => SendMemTable(fe, [new VhostMemoryRegion(0, 4096, SessionTestGuest.UserBase, g.Size)], [g.Fd]), "beyond the end of the file", false),
        ["offset-plus-size-overflows"] = ((fe, g) => SendMemTable(fe, [new VhostMemoryRegion(0, 4096, SessionTestGuest.UserBase, ulong.MaxValue - 100)], [g.Fd]), "overflows u64", true),
        ["overlapping-regions"] = ((fe, g) => SendMemTable(fe, [g.RegionAt(0, 1 << 20), new VhostMemoryRegion(0x8000, 1 << 20, SessionTestGuest.UserBase + (2 << 20), 0)], Fds(g, 2)), "overlaps region 0", true),

        // VU-06 and VU-03: ring sizes and indexes.
        ["vring-num-0"] = ((fe, _) => fe.SendRaw(State(8, 0, 0)), "size 0 is not 1 to 32768", true),
        ["vring-num-3"] = ((fe, _) => fe.SendRaw(State(8, 0, 3)), "size 3 is not a power of two", false),
        ["vring-num-65536"] = ((fe, _) => fe.SendRaw(State(8, 0, 65536)), "size 65536 is not 1 to 32768", true),
        ["vring-index-2-of-2"] = ((fe, _) => fe.SendRaw(State(8, 2, 256)), "vring index 2 is out of range", false),
        ["vring-index-high-bits"] = ((fe, _) => fe.SendRaw(State(8, 0x1_0000, 256)), "vring index 65536 is not below 256", true),
        ["kick-index-out-of-range"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(12, V, 8, BitConverter.GetBytes(0x107UL))), "vring index 7 is out of range", false),
        ["addr-index-out-of-range"] = ((fe, _) =>
        {
            var addr = new VhostVringAddr(5, 0, 0x1000, 0x2000, 0x3000, 0);
            fe.SendRaw(SessionTestFrontend.Raw(9, V, VhostVringAddr.Size, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringAddr>(in addr))));
        }, "vring index 5 is out of range", false),
        ["pipe-as-call-fd"] = ((fe, _) =>
        {
            Assert.True(Syscalls.Pipe(false, out SafeFd? r, out SafeFd? w).IsSuccess);
            using (r)
            using (w)
            {
                fe.SendRaw(SessionTestFrontend.Raw(13, V, 8, BitConverter.GetBytes(1UL)), w!);
            }
        }, "vring 1: the fd is not an eventfd (pipe:[", false),
        ["memfd-as-kick-fd"] = ((fe, g) => fe.SendRaw(SessionTestFrontend.Raw(12, V, 8, BitConverter.GetBytes(0UL)), g.Fd), "vring 0: the fd is not an eventfd (/memfd:", false),
        ["split-base-too-large"] = ((fe, _) => fe.SendRaw(State(10, 0, 0x1_0000)), "does not fit the 16-bit index", false),
        ["vring-enable-2"] = ((fe, _) => fe.SendRaw(State(18, 0, 2)), "enable value 2 is not 0 or 1", true),

        // Features.
        ["features-not-offered"] = ((fe, _) => fe.SendRaw(U64(2, 1UL << VirtioFeatures.AccessPlatform)), "were not offered", false),
        ["protocol-features-not-offered"] = ((fe, _) => fe.SendRaw(U64(16, (ulong)VhostUserProtocolFeatures.BackendReq)), "protocol feature bits 0x20 were not offered", false),
        ["features-change-while-running"] = ((fe, g) =>
        {
            SetUpRunning(fe, g);
            fe.SendRaw(U64(2, SessionHarness.SplitFeatures | (1UL << VirtioFeatures.RingEventIdx)));
        }, "while rings are running", false),
        ["ring-outside-memory"] = ((fe, g) =>
        {
            fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol);
            fe.SetMemTable([g.RegionAt(0, 1 << 20)], [g.Fd]);
            var ring = new SessionSplitRing(g, 0, 0x1000, 0x2000, 2 << 20); // used ring beyond the 1 MiB region
            fe.SetupRing(0, 256, 0, ring.Addr(), enable: false);
            fe.SendRaw(State(18, 0, 1)); // enabling it builds the queue, which fails
        }, "the split ring cannot be used", false),

        // VU-04: the log.
        ["log-beyond-file"] = ((fe, g) =>
        {
            fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol | VhostUserProtocolFeatures.LogShmfd);
            var log = new VhostUserLog(g.Size + 4096, 0);
            fe.SendRaw(SessionTestFrontend.Raw(6, V, VhostUserLog.Size, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostUserLog>(in log))), g.Fd);
        }, "protocol violation in VHOST_USER_SET_LOG_BASE: log of 0x401000 bytes at offset 0x0 cannot be mapped", false),
        ["log-offset-overflows"] = ((fe, g) =>
        {
            var log = new VhostUserLog(4096, ulong.MaxValue - 10);
            fe.SendRaw(SessionTestFrontend.Raw(6, V, VhostUserLog.Size, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostUserLog>(in log))), g.Fd);
        }, "overflows u64", true),

        // Silence in the middle of a message.
        ["half-header"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(1, V, 0).AsSpan(0, 5)), "only 5 of the 12 header bytes arrived", true),
        ["half-payload"] = ((fe, _) => fe.SendRaw(SessionTestFrontend.Raw(2, V, 8, new byte[3])), "3 of 8 bytes received", true),
        ["close-mid-header"] = ((fe, _) =>
        {
            fe.SendRaw(SessionTestFrontend.Raw(1, V, 0).AsSpan(0, 7));
            fe.Socket.Shutdown();
        }, "closed the connection after 7 of the 12 header bytes", true),

        // After RESET_OWNER nothing negotiated remains.
        ["mtu-after-reset-owner"] = ((fe, _) =>
        {
            fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol | VhostUserProtocolFeatures.NetMtu);
            fe.SetU64(VhostUserRequest.NetSetMtu, 1500);
            fe.Request(VhostUserRequest.ResetOwner);
            fe.SendRaw(U64(20, 1500));
        }, "protocol violation in VHOST_USER_NET_SET_MTU: protocol feature NetMtu was not negotiated", false),
        ["log-base-after-reset-owner"] = ((fe, g) =>
        {
            fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol | VhostUserProtocolFeatures.LogShmfd);
            fe.Request(VhostUserRequest.ResetOwner);
            var log = new VhostUserLog(4096, 0);
            fe.SendRaw(SessionTestFrontend.Raw(6, V, VhostUserLog.Size, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostUserLog>(in log))), g.Fd);
        }, "protocol feature LogShmfd was not negotiated", false),
        ["status-after-reset-owner"] = ((fe, _) =>
        {
            fe.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol | VhostUserProtocolFeatures.Status);
            fe.SetU64(VhostUserRequest.SetStatus, 1);
            fe.Request(VhostUserRequest.ResetOwner);
            fe.SendRaw(SessionTestFrontend.Raw(40, V, 0));
        }, "protocol violation in VHOST_USER_GET_STATUS: protocol feature Status was not negotiated", false),

        // Values out of range.
        ["mtu-67"] = ((fe, _) => fe.SendRaw(U64(20, 67)), "MTU 67 is not between 68 and 65535", true),
        ["rarp-not-negotiated"] = ((fe, _) => fe.SendRaw(U64(19, 0x5634_1200_5452)), "protocol feature Rarp was not negotiated", false),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Cases.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Hostile_message_drops_the_connection_counts_logs_and_the_backend_accepts_the_next(string name)
    {
        using var h = SessionHarness.Create(messageTimeout: TimeSpan.FromMilliseconds(300));
        using var guest = new SessionTestGuest();
        (Action<SessionTestFrontend, SessionTestGuest> act, string log, bool malformed) = Cases[name];
        using (SessionTestFrontend fe = h.Connect())
        {
            act(fe, guest);
            Assert.True(fe.WaitForClose(), $"{name}: the backend kept the connection");
        }

        SessionWait.AssertUntil(() => h.Counters.ConnectionsDroppedForErrors == 1 && !h.Backend.IsConnected, "the drop");
        Assert.Equal(malformed ? 1 : 0, h.Counters.MalformedMessages);
        Assert.Equal(malformed ? 0 : 1, h.Counters.ProtocolViolations);
        Assert.True(h.Logger.Contains(log, Microsoft.Extensions.Logging.LogLevel.Warning), $"{name}: no warning containing '{log}' in:{Environment.NewLine}{h.Logger}");
        Assert.False(h.Backend.Slots[0].IsActive);
        Assert.Equal(1, SessionWait.Mappings(guest.Name)); // nothing of the guest stays mapped but the test's own view

        // Still alive: the next frontend is served.
        using SessionTestFrontend next = h.Connect();
        Assert.Equal(h.Backend.Options.OfferedFeatures, next.GetU64(VhostUserRequest.GetFeatures));
    }

    [Fact]
    public void SET_FEATURES_not_offered_with_NEED_REPLY_gets_a_failure_ack_before_the_drop()
    {
        using var h = SessionHarness.Create();
        using SessionTestFrontend fe = h.Connect();
        fe.SendRaw(U64(2, 1UL << VirtioFeatures.AccessPlatform, NeedReply));
        Assert.NotEqual(0UL, fe.ReadAck(VhostUserRequest.SetFeatures));
        Assert.True(fe.WaitForClose());
        Assert.Equal(1, h.Counters.ProtocolViolations);
    }

    [Fact]
    public void No_fd_or_mapping_leaks_over_every_hostile_case()
    {
        using var h = SessionHarness.Create(messageTimeout: TimeSpan.FromMilliseconds(300));
        using var guest = new SessionTestGuest();

        // Warm up once (the runtime opens some descriptors lazily), then compare the open fds before and after. Every
        // fd must be closed when the drop happens.
        RunAll(h, guest);
        Assert.Empty(OpenFds.LeftOpenBy(() => RunAll(h, guest)));
        Assert.Equal(2 * Cases.Count, h.Counters.ConnectionsDroppedForErrors);
        Assert.Equal(1, SessionWait.Mappings(guest.Name));
    }

    private static void RunAll(SessionHarness h, SessionTestGuest guest)
    {
        foreach ((string name, (Action<SessionTestFrontend, SessionTestGuest> act, _, _)) in Cases)
        {
            long dropped = h.Counters.ConnectionsDroppedForErrors;
            using (SessionTestFrontend fe = h.Connect())
            {
                act(fe, guest);
                Assert.True(fe.WaitForClose(), $"{name}: the backend kept the connection");
            }

            SessionWait.AssertUntil(() => h.Counters.ConnectionsDroppedForErrors == dropped + 1 && !h.Backend.IsConnected, name + ": the drop");
        }

        using (SessionTestFrontend last = h.Connect())
        {
            Assert.NotEqual(0UL, last.GetU64(VhostUserRequest.GetFeatures));
        }

        SessionWait.AssertUntil(() => !h.Backend.IsConnected, "the last frontend's disconnect");
    }

    private static byte[] U64(uint request, ulong value, uint extraFlags = 0) => SessionTestFrontend.Raw(request, V | extraFlags, 8, BitConverter.GetBytes(value));

    private static byte[] State(uint request, uint index, uint num)
    {
        var state = new VhostVringState(index, num);
        return SessionTestFrontend.Raw(request, V, VhostVringState.Size, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringState>(in state)));
    }

    /// <summary><paramref name="count"/> adjacent 64 KiB regions of the guest RAM.</summary>
    private static VhostMemoryRegion[] Regions(SessionTestGuest guest, int count)
    {
        var regions = new VhostMemoryRegion[count];
        for (int i = 0; i < count; i++)
        {
            regions[i] = guest.RegionAt((ulong)i * 0x10000, 0x10000);
        }

        return regions;
    }

    private static SafeFd[] Fds(SessionTestGuest guest, int count) => Enumerable.Repeat(guest.Fd, count).ToArray();

    private static void SendMemTable(SessionTestFrontend fe, VhostMemoryRegion[] regions, SafeFd[] fds) =>
        SendMemTableClaiming(fe, (uint)regions.Length, regions, fds);

    /// <summary>A SET_MEM_TABLE whose nregions says <paramref name="claimed"/>, whatever the payload holds.</summary>
    private static void SendMemTableClaiming(SessionTestFrontend fe, uint claimed, VhostMemoryRegion[] regions, SafeFd[] fds)
    {
        var payload = new byte[VhostUserMemory.HeaderSize + (regions.Length * VhostMemoryRegion.Size)];
        MemoryMarshal.Write(payload, claimed);
        MemoryMarshal.AsBytes(regions.AsSpan()).CopyTo(payload.AsSpan(VhostUserMemory.HeaderSize));
        fe.SendRaw(SessionTestFrontend.Raw(5, V, (uint)payload.Length, payload), fds);
    }

    /// <summary>Sets up a running device (both rings of the first pair live).</summary>
    private static void SetUpRunning(SessionTestFrontend frontend, SessionTestGuest guest)
    {
        frontend.Negotiate(SessionHarness.SplitFeatures, SessionHarness.BasicProtocol);
        frontend.SetMemTable([guest.Region], [guest.Fd]);
        frontend.SetupSplitRing(SessionSplitRing.Standard(guest, 0));
        frontend.SetupSplitRing(SessionSplitRing.Standard(guest, 1));
    }
}
