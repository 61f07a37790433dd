using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;

namespace Hyperlane.Vhost.Tests;

/// <summary>What the session does about guest faults the queues report, and about requests repeated to exhaust it.</summary>
[Collection(SessionCollection.Name)]
public class SessionHealthTests
{
    [Fact]
    public void Malformed_chains_are_logged_and_a_broken_ring_drops_the_connection()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        (_, SessionSplitRing tx) = h.SetUpSplit(fe, guest);
        using Mempool pool = SessionHarness.CreatePool();
        var burst = new Mbuf[4];

        // A chain whose buffer is outside guest memory: returned to the guest, counted, logged.
        tx.PostTx(0x20000, new byte[64]);
        guest.WriteU64(tx.DescGpa, 0x10_0000_0000); // rewrite the descriptor's address after posting
        Assert.True(h.Backend.Slots[1].TryEnter(out IVhostQueue? q));
        Assert.Equal(0, q.Dequeue(pool, burst));
        h.Backend.Slots[1].Exit();
        SessionWait.AssertUntil(() => h.Logger.Contains("vring 1: 1 new malformed descriptor chain(s) from the guest; last AddressNotMapped"), "the fault log line");
        Assert.True(h.Backend.IsConnected);

        // avail->idx jumping by more than the ring size: the queue stops for good and the session drops the connection.
        guest.WriteU16(tx.AvailGpa + 2, (ushort)(tx.AvailIdx + 1000));
        Assert.True(h.Backend.Slots[1].TryEnter(out q));
        Assert.Equal(0, q.Dequeue(pool, burst));
        h.Backend.Slots[1].Exit();
        Assert.True(fe.WaitForClose());
        SessionWait.AssertUntil(() => h.Counters.BrokenRings == 1 && !h.Backend.IsConnected, "the drop");
        Assert.True(h.Logger.Contains("vring 1 is broken beyond repair (AvailIndexJump"));
        Assert.Equal(1, h.Backend.Slots[1].RetiredBroken);
        Assert.Equal(1, h.Counters.ConnectionsDroppedForErrors);
    }

    [Fact]
    public void Repeated_unsupported_requests_with_fds_and_repeated_ring_setup_leak_nothing()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        h.SetUpSplit(fe, guest);

        // VU-05 (GET_INFLIGHT_FD repeated, CVE-2020-10726; fds attached, CVE-2022-0669) and VU-06 (SET_VRING_NUM
        // repeated, CVE-2019-14818).
        var inflight = new byte[24];
        byte[] message = SessionTestFrontend.Raw((uint)VhostUserRequest.GetInflightFd, VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag, (uint)inflight.Length, inflight);
        for (int i = 0; i < 100; i++)
        {
            fe.SendRaw(message, guest.Fd);
            Assert.NotEqual(0UL, fe.ReadAck(VhostUserRequest.GetInflightFd));
        }

        IReadOnlyList<string> leftOpen = OpenFds.LeftOpenBy(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                fe.SendRaw(message, guest.Fd);
                Assert.NotEqual(0UL, fe.ReadAck(VhostUserRequest.GetInflightFd));
                fe.SetVringState(VhostUserRequest.SetVringNum, 0, i % 2 == 0 ? 128u : 256u);
            }
        });
        Assert.Empty(leftOpen);
        Assert.Equal(2, SessionWait.Mappings(guest.Name));
        Assert.Equal(2100, h.Counters.UnsupportedRequests);
        Assert.True(h.Backend.Slots[0].IsActive);
        Assert.Equal(256, ((SplitVhostQueue)h.Backend.Slots[0].Current!).Size);
        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);
    }
}
