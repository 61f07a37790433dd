using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>The backend goes away: Disconnected, queues stopped and emptied; client mode reconnects on request, server mode by itself.</summary>
public class FrontendReconnectTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Client_mode_raises_Disconnected_and_Reconnect_replays_the_setup(bool packed)
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        var first = FrontendFakeBackend.Listen(dir.Socket);
        using var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { PackedRing = packed, QueueSize = 64 }, pool);
        using var disconnected = new ManualResetEventSlim();
        using var reconnected = new ManualResetEventSlim();
        VhostUserDisconnectedEventArgs? seen = null;
        frontend.Disconnected += (_, e) =>
        {
            seen = e;
            disconnected.Set();
        };
        frontend.Reconnected += (_, _) => reconnected.Set();
        first.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        Assert.Equal(1, frontend.Transmit(0, [Packet(pool, Frame(64, 1))]));

        first.Disconnect();
        Assert.True(disconnected.Wait(5000), "Disconnected was not raised");
        Assert.False(seen!.WillReconnect);
        Assert.False(frontend.IsConnected);
        Assert.True(frontend.TxQueue(0).IsStopped);
        AssertNoLeak(pool); // receive buffers and the packet in flight went back
        Mbuf late = Packet(pool, Frame(64, 2));
        Assert.Equal(0, frontend.Transmit(0, [late]));
        late.Free();
        first.Dispose();

        using var second = FrontendFakeBackend.Listen(dir.Socket);
        frontend.Reconnect();
        Assert.True(reconnected.Wait(5000));
        Assert.True(frontend.IsConnected);
        Assert.Equal(2, frontend.ConnectionCount);
        second.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        Assert.Empty(second.Errors);
        Assert.Equal(frontend.NegotiatedFeatures, second.SetFeaturesValue);
        Assert.Equal(frontend.LastHandshake, second.Requests());

        // Fresh rings: the receive ring is full again, transmit works and starts at index 0.
        byte[] frame = Frame(300, 3);
        Assert.Equal(1, frontend.Transmit(0, [Packet(pool, frame)]));
        if (packed)
        {
            Assert.Equal(PackedDriverQueue.FreshBase, second.Ring(1).Base);
            FrontendPackedDevice tx = second.PackedDevice(1);
            FrontendPackedDevice.Buffer buffer = Assert.Single(tx.PopAll());
            Assert.Equal([.. new byte[12], .. frame], tx.ReadBuffer(buffer));
            Assert.Equal(64, second.PackedDevice(0).PopAll().Count);
        }
        else
        {
            FrontendSplitDevice tx = second.SplitDevice(1);
            Assert.Equal(1, tx.AvailIdx);
            Assert.Equal([.. new byte[12], .. frame], tx.ReadChain(tx.AvailEntry(0)));
            Assert.Equal(64, second.SplitDevice(0).AvailIdx);
        }
    }

    [Fact]
    public void Reconnect_refuses_a_backend_that_lacks_a_feature_negotiated_before()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        var first = FrontendFakeBackend.Listen(dir.Socket);
        using var frontend = VhostUserFrontend.Connect(Options(dir.Socket), pool);
        using var disconnected = new ManualResetEventSlim();
        frontend.Disconnected += (_, _) => disconnected.Set();
        Assert.True(VirtioFeatures.IsSet(frontend.NegotiatedFeatures, VirtioFeatures.NetMrgRxbuf));
        first.Disconnect();
        Assert.True(disconnected.Wait(5000));
        first.Dispose();

        using (var poorer = FrontendFakeBackend.Listen(dir.Socket, b => b.Features = FrontendFakeBackend.DpdkLikeFeatures & ~Mrg))
        {
            var e = Assert.Throws<VhostUserFrontendException>(frontend.Reconnect);
            Assert.Equal(VhostUserRequest.GetFeatures, e.Request);
            Assert.Contains("MRG_RXBUF", e.Message, StringComparison.Ordinal);
            Assert.False(frontend.IsConnected);
            AssertNoLeak(pool);
        }

        using var good = FrontendFakeBackend.Listen(dir.Socket);
        frontend.Reconnect();
        good.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        Assert.True(frontend.IsConnected);
    }

    [Fact]
    public void Server_mode_takes_the_backend_back_by_itself()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        FrontendFakeBackend? first = null;
        var connecting = new Thread(() => first = FrontendFakeBackend.ConnectTo(dir.Socket));
        connecting.Start();
        using var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { Server = true }, pool);
        connecting.Join();
        using var disconnected = new ManualResetEventSlim();
        using var reconnected = new ManualResetEventSlim();
        VhostUserDisconnectedEventArgs? seen = null;
        frontend.Disconnected += (_, e) =>
        {
            seen = e;
            disconnected.Set();
        };
        frontend.Reconnected += (_, _) => reconnected.Set();
        first!.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        Assert.Throws<InvalidOperationException>(frontend.Reconnect);

        first.Disconnect();
        Assert.True(disconnected.Wait(5000));
        Assert.True(seen!.WillReconnect);
        AssertNoLeak(pool);
        first.Dispose();

        using var second = FrontendFakeBackend.ConnectTo(dir.Socket);
        Assert.True(reconnected.Wait(5000), $"no automatic reconnection ({frontend.LastError})");
        second.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        Assert.Empty(second.Errors);
        Assert.Equal(2, frontend.ConnectionCount);
        Assert.Equal(256, second.SplitDevice(0).AvailIdx);

        byte[] frame = Frame(128, 7);
        Assert.Equal(1, frontend.Transmit(0, [Packet(pool, frame)]));
        FrontendSplitDevice tx = second.SplitDevice(1);
        Assert.Equal([.. new byte[12], .. frame], tx.ReadChain(tx.AvailEntry(0)));
    }

    [Fact]
    public void Server_mode_refuses_a_poorer_backend_and_keeps_listening()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        FrontendFakeBackend? first = null;
        var connecting = new Thread(() => first = FrontendFakeBackend.ConnectTo(dir.Socket));
        connecting.Start();
        using var frontend = VhostUserFrontend.Connect(Options(dir.Socket) with { Server = true }, pool);
        connecting.Join();
        using var reconnected = new ManualResetEventSlim();
        frontend.Reconnected += (_, _) => reconnected.Set();
        first!.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
        first.Disconnect();
        first.Dispose();

        using (var poorer = FrontendFakeBackend.ConnectTo(dir.Socket, b => b.Features = FrontendFakeBackend.DpdkLikeFeatures & ~InOrder))
        {
            Assert.True(poorer.Closed.Wait(5000)); // refused: the frontend closed it
            WaitFor(() => frontend.LastError is VhostUserFrontendException);
            Assert.Contains("IN_ORDER", frontend.LastError!.Message, StringComparison.Ordinal);
            Assert.False(reconnected.IsSet);
        }

        using var good = FrontendFakeBackend.ConnectTo(dir.Socket);
        Assert.True(reconnected.Wait(5000));
        good.WaitUntil(b => b.Vrings.Count == 2 && b.Vrings.Values.All(v => v.Enabled));
    }

    [Fact]
    public void Dispose_while_disconnected_does_not_wait_for_the_backend()
    {
        using var dir = new TempSocketDir("hl-fe-");
        using Mempool pool = Pool();
        var backend = FrontendFakeBackend.Listen(dir.Socket);
        var frontend = VhostUserFrontend.Connect(Options(dir.Socket), pool);
        using var disconnected = new ManualResetEventSlim();
        frontend.Disconnected += (_, _) => disconnected.Set();
        backend.Disconnect();
        Assert.True(disconnected.Wait(5000));
        long start = Environment.TickCount64;
        frontend.Dispose();
        Assert.True(Environment.TickCount64 - start < 2000);
        backend.Dispose();
        AssertNoLeak(pool);
    }
}
