using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Net.VirtioUser;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// Either side going away and coming back: the link goes down and up again (with an event each way) and traffic
/// flows again both ways, without the application doing anything on the side that stayed.
/// </summary>
public sealed class ReconnectTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_restarted_net_vhost_gets_the_client_mode_virtio_user_back_by_itself(bool packed)
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair(queues: 2, virtioArgs: packed ? "packed_vq=1" : "");
        using var guestEvents = new EventLog(pair.Virtio);
        AssertTraffic(pair.Vhost, pair.Virtio, pair, queues: 2, seq: 0);

        Assert.True(lab.Runtime.Vdev.Remove(pair.Vhost.Name)); // the backend process "restarts"

        guestEvents.WaitForLinks("down");
        lab.WaitLink(pair.Virtio, false);
        Assert.False(File.Exists(lab.Socket));
        // While the backend is away, bursts take nothing and return nothing.
        Mbuf lone = LabFrames.ToMbuf(pair.VirtioPool, TestFrames.Make(64, 0, 0, TestFrames.HostMac, pair.Virtio.MacAddress));
        int sent = pair.Virtio.TxBurst(0, [lone]);
        if (sent == 0)
        {
            lone.Free();
        }

        Assert.Equal(0, sent);
        Assert.Equal(0, pair.Virtio.RxBurst(0, new Mbuf[4]));

        // virtio_user may connect while the new port is still being probed (net_vhost serves its socket from probe
        // on), so its link-up event can come before anyone could subscribe: the test looks at the link instead.
        var vhost2 = lab.ProbeVhost("queues=2");
        VhostLab.Setup(vhost2, 2, pair.VhostRxPool);
        vhost2.Start();

        guestEvents.WaitForLinks("down", "up");
        lab.WaitLink(pair.Virtio, true);
        lab.WaitLink(vhost2, true);
        AssertTraffic(vhost2, pair.Virtio, pair, queues: 2, seq: 10_000);

        var x = pair.Virtio.GetXStats().ToDictionary(v => v.Name, v => v.Value);
        Assert.Equal(1, x["virtio_user_reconnects"]);
        Assert.Equal(2, x["virtio_user_connections"]);
        Assert.Equal(3, x["virtio_user_link_changes"]);
    }

    [Fact]
    public void Stopping_and_starting_virtio_user_takes_net_vhost_link_down_and_up()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();
        using var hostEvents = new EventLog(pair.Vhost);
        AssertTraffic(pair.Vhost, pair.Virtio, pair, queues: 1, seq: 0);

        for (int round = 1; round <= 2; round++)
        {
            pair.Virtio.Stop();
            lab.WaitLink(pair.Vhost, false);
            Assert.Equal(0, pair.Virtio.RxBurst(0, new Mbuf[4]));

            pair.Virtio.Start();
            lab.WaitLink(pair.Vhost, true);
            Assert.True(pair.Virtio.GetLink().IsUp);
            AssertTraffic(pair.Vhost, pair.Virtio, pair, queues: 1, seq: round * 10_000);
        }

        hostEvents.WaitForLinks("down", "up", "down", "up");
        Assert.Equal(3, pair.Vhost.GetXStats().Single(x => x.Name == "vhost_connections").Value);
        Assert.Equal(0, pair.Vhost.GetXStats().Single(x => x.Name == "vhost_connections_dropped_for_errors").Value);

        Assert.True(lab.Runtime.Vdev.Remove(pair.Virtio.Name));
        VhostLab.AssertNoLeak(pair.VirtioPool);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Server_mode_virtio_user_takes_a_restarted_client_mode_net_vhost_back(bool packed)
    {
        using var lab = new VhostLab();
        var vhost = lab.ProbeVhost("client=1,queues=2");
        var vhostRx = lab.Pool("vh-rx", 4096, shareable: false);
        var pair = new PortPair(vhost, lab.ProbeVirtio("server=1,queues=2" + (packed ? ",packed_vq=1" : "")), vhostRx, lab.Pool("vh-tx", 2048, shareable: false), lab.Pool("vu", 4096));
        using var guestEvents = new EventLog(pair.Virtio);
        VhostLab.Setup(vhost, 2, vhostRx);
        vhost.Start();
        VhostLab.Setup(pair.Virtio, 2, pair.VirtioPool);
        pair.Virtio.Start(); // listens; the client-mode backend connects at its next attempt
        lab.WaitLink(pair.Virtio, true);
        lab.WaitLink(vhost, true);
        Assert.True(pair.Virtio.Options.Server);
        Assert.True(vhost.Backend.Options.Client);
        AssertTraffic(vhost, pair.Virtio, pair, queues: 2, seq: 0);

        // The backend restarts: the frontend keeps listening and takes the new one back.
        Assert.True(lab.Runtime.Vdev.Remove(vhost.Name));
        guestEvents.WaitForLinks("up", "down");
        lab.WaitLink(pair.Virtio, false);
        Assert.True(File.Exists(lab.Socket), "virtio_user (server) still listens");

        var vhost2 = lab.ProbeVhost("client=1,queues=2");
        VhostLab.Setup(vhost2, 2, vhostRx);
        vhost2.Start();
        guestEvents.WaitForLinks("up", "down", "up");
        lab.WaitLink(pair.Virtio, true);
        lab.WaitLink(vhost2, true);
        AssertTraffic(vhost2, pair.Virtio, pair, queues: 2, seq: 10_000);
        Assert.Equal(1, pair.Virtio.GetXStats().Single(x => x.Name == "virtio_user_reconnects").Value);

        // And the other way round: virtio_user restarts, the client-mode net_vhost reconnects by itself.
        pair.Virtio.Stop();
        lab.WaitLink(vhost2, false);
        pair.Virtio.Start();
        lab.WaitLink(vhost2, true);
        AssertTraffic(vhost2, pair.Virtio, pair, queues: 2, seq: 20_000);
    }

    /// <summary>A few frames of several sizes on each queue, both ways, checked byte for byte.</summary>
    private static void AssertTraffic(EthDev vhost, VirtioUserEthDev virtio, PortPair pools, int queues, int seq)
    {
        for (int q = 0; q < queues; q++)
        {
            var up = TestFrames.Series([64, 1500, 4000], 10, q, TestFrames.HostMac, virtio.MacAddress, seq + (1000 * q));
            TestFrames.AssertSame(up, Traffic.Send(virtio, q, pools.VirtioPool, vhost, q, up), $"virtio_user -> net_vhost on queue {q}");
            var down = TestFrames.Series([64, 1500, 4000], 10, q, virtio.MacAddress, TestFrames.HostMac, seq + 500 + (1000 * q));
            TestFrames.AssertSame(down, Traffic.Send(vhost, q, pools.VhostTxPool, virtio, q, down), $"net_vhost -> virtio_user on queue {q}");
        }
    }
}
