using Hyperlane.Core.Ports;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>Link state and link-status-change events of both ports as the frontend comes and goes.</summary>
public sealed class LinkEventTests
{
    /// <summary>Time for a stray extra event to show up before the events are counted.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    [Fact]
    public void Net_vhost_link_follows_the_frontend_with_one_event_each_way()
    {
        using var lab = new VhostLab();
        var vhost = lab.ProbeVhost();
        using var hostEvents = new EventLog(vhost);
        VhostLab.Setup(vhost, 1, lab.Pool("vh", 1024, shareable: false));
        vhost.Start();

        Assert.False(vhost.GetLink().IsUp, "no frontend yet");
        Thread.Sleep(Settle);
        Assert.Empty(hostEvents.All);

        var virtio = lab.ProbeVirtio();
        using var guestEvents = new EventLog(virtio);
        VhostLab.Setup(virtio, 1, lab.Pool("vu", 1024));
        Assert.False(virtio.GetLink().IsUp, "not started");
        virtio.Start();

        // virtio_user: up as soon as Start returns, one event raised by Start itself.
        LinkStatus guestLink = virtio.GetLink();
        Assert.True(guestLink.IsUp);
        Assert.Equal(10_000u, guestLink.SpeedMbps);
        Assert.Equal(["up"], guestEvents.Links);

        hostEvents.WaitForLinks("up");
        lab.WaitLink(vhost, true);
        Assert.Equal(10_000u, vhost.GetLink().SpeedMbps);
        Thread.Sleep(Settle);
        Assert.Equal(["up"], hostEvents.Links);
        Assert.All(hostEvents.All, e => Assert.Equal(vhost.PortId, e.PortId));
        Assert.All(hostEvents.All, e => Assert.Equal("net_vhost0", e.PortName));

        virtio.Stop();

        hostEvents.WaitForLinks("up", "down");
        lab.WaitLink(vhost, false);
        Assert.False(virtio.GetLink().IsUp);
        Thread.Sleep(Settle);
        Assert.Equal(["up", "down"], hostEvents.Links);
        Assert.Equal(["up", "down"], guestEvents.Links);
        Assert.Equal(2, Stat(vhost, "vhost_link_changes"));
        Assert.Equal(2, Stat(virtio, "virtio_user_link_changes"));
    }

    [Fact]
    public void Closing_the_virtio_user_port_takes_net_vhost_link_down()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();
        using var hostEvents = new EventLog(pair.Vhost);

        Assert.True(lab.Runtime.Vdev.Remove(pair.Virtio.Name));

        hostEvents.WaitForLinks("down");
        lab.WaitLink(pair.Vhost, false);
        Hyperlane.Testing.Wait.Until(() => Stat(pair.Vhost, "vhost_disconnects") == 1, () => "the disconnect counted", VhostLab.Timeout);
    }

    [Fact]
    public void Net_vhost_reports_link_down_while_stopped_even_with_the_frontend_connected()
    {
        using var lab = new VhostLab();
        var pair = lab.StartPair();

        pair.Vhost.Stop();

        Assert.False(pair.Vhost.GetLink().IsUp);
        Assert.True(pair.Vhost.Backend.IsReady, "the backend keeps serving the frontend");
        Assert.True(pair.Virtio.GetLink().IsUp);

        pair.Vhost.Start();
        Assert.True(pair.Vhost.GetLink().IsUp);
        var frames = TestFrames.Series([64, 1500], 10, 0, TestFrames.HostMac, pair.Virtio.MacAddress);
        TestFrames.AssertSame(frames, Traffic.Send(pair.Virtio, 0, pair.VirtioPool, pair.Vhost, 0, frames), "after restarting net_vhost");
    }

    private static long Stat(EthDev port, string name) => port.GetXStats().Single(x => x.Name == name).Value;
}
