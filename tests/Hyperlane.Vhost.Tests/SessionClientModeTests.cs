using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Tests;

/// <summary>Client mode (DPDK <c>client=1</c>): connect to a frontend that listens, retrying, and reconnect after it restarts.</summary>
[Collection(SessionCollection.Name)]
public class SessionClientModeTests
{
    [Fact]
    public void Connects_to_a_listener_that_appears_later_and_reconnects_after_it_restarts()
    {
        using var h = SessionHarness.Create(client: true, reconnect: TimeSpan.FromMilliseconds(100));
        using var guest = new SessionTestGuest();

        // Nobody listens yet: the backend keeps trying.
        SessionWait.AssertUntil(() => h.Counters.ConnectAttemptsFailed >= 3, "failed connection attempts");
        Assert.False(h.Backend.IsConnected);

        using (UnixStreamSocket listener = UnixStreamSocket.Listen(h.SocketPath))
        {
            UnixStreamSocket? accepted = listener.Accept(TimeSpan.FromSeconds(5));
            Assert.NotNull(accepted);
            using var fe = new SessionTestFrontend(accepted);
            h.SetUpSplit(fe, guest);
            SessionWait.AssertUntil(() => h.Backend.IsReady, "ready (first listener)");
            Assert.Equal(1, h.Counters.ConnectionsAccepted);
        }

        // The frontend went away (connection and listener): link down, and the backend retries.
        SessionWait.AssertUntil(() => !h.Backend.IsConnected && !h.Backend.IsReady, "disconnect seen");
        long failedBefore = h.Counters.ConnectAttemptsFailed;
        SessionWait.AssertUntil(() => h.Counters.ConnectAttemptsFailed > failedBefore, "retries after the restart");
        Assert.False(h.Backend.Slots[0].IsActive);

        using (UnixStreamSocket listener = UnixStreamSocket.Listen(h.SocketPath))
        {
            UnixStreamSocket? accepted = listener.Accept(TimeSpan.FromSeconds(5));
            Assert.NotNull(accepted);
            using var fe = new SessionTestFrontend(accepted);
            Assert.NotEqual(0UL, fe.GetU64(VhostUserRequest.GetFeatures));
            h.SetUpSplit(fe, guest);
            SessionWait.AssertUntil(() => h.Backend.IsReady, "ready (restarted listener)");
            Assert.Equal(2, h.Counters.ConnectionsAccepted);
        }

        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);
    }

    [Fact]
    public void Reconnects_after_dropping_a_hostile_frontend()
    {
        using var h = SessionHarness.Create(client: true, reconnect: TimeSpan.FromMilliseconds(100));
        using UnixStreamSocket listener = UnixStreamSocket.Listen(h.SocketPath);
        using (var fe = new SessionTestFrontend(listener.Accept(TimeSpan.FromSeconds(5))!))
        {
            fe.SendRaw(SessionTestFrontend.Raw(99, VhostUserHeader.Version, 0));
            Assert.True(fe.WaitForClose());
        }

        UnixStreamSocket? again = listener.Accept(TimeSpan.FromSeconds(5));
        Assert.NotNull(again);
        using var second = new SessionTestFrontend(again);
        Assert.NotEqual(0UL, second.GetU64(VhostUserRequest.GetFeatures));
        Assert.Equal(1, h.Counters.ConnectionsDroppedForErrors);
        Assert.Equal(1, h.Counters.MalformedMessages);
    }

    [Fact]
    public void Dispose_stops_retrying()
    {
        var h = SessionHarness.Create(client: true, reconnect: TimeSpan.FromMilliseconds(50));
        SessionWait.AssertUntil(() => h.Counters.ConnectAttemptsFailed >= 2, "failed connection attempts");
        h.Dispose();
        long after = h.Counters.ConnectAttemptsFailed;
        Thread.Sleep(200);
        Assert.Equal(after, h.Counters.ConnectAttemptsFailed);
        Assert.True(h.Logger.Contains("stopped"));
    }
}
