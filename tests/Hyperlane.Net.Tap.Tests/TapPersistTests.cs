using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

/// <summary><c>persist</c> (TUNSETPERSIST): the netdev outlives the port; without it, it goes with the port.</summary>
public sealed class TapPersistTests
{
    [SkippableFact]
    public void Persistent_tap_survives_close_and_can_be_attached_again()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string t = NetNamespace.UniqueIfName("tp");
        try
        {
            var port = lab.Probe($"net_tap0,iface={t},persist");
            Assert.True(lab.Ns.LinkExists(t));
            port.Close();
            Assert.True(lab.Ns.LinkExists(t), "a persist tap must outlive its port");

            // The kept netdev can be attached again (it existed before this probe, so it stays after).
            var again = lab.Probe($"net_tap1,iface={t}");
            Assert.Equal(t, again.InterfaceName);
            again.Close();
            Assert.True(lab.Ns.LinkExists(t));
        }
        finally
        {
            if (lab.Ns.LinkExists(t))
            {
                // rtnetlink delete: "ip tuntap del" would re-attach with other TUNSETIFF flags (no
                // IFF_MULTI_QUEUE) and fail with EINVAL on the driver's multi-queue tap.
                lab.Ns.DeleteLink(t);
            }
        }

        Assert.False(lab.Ns.LinkExists(t));
    }

    [SkippableFact]
    public void Tap_without_persist_disappears_with_its_port()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        string t = NetNamespace.UniqueIfName("tn");
        var port = lab.Probe($"net_tap0,iface={t}");
        Assert.True(lab.Ns.LinkExists(t));
        port.Close();
        Assert.False(lab.Ns.LinkExists(t));
    }
}
