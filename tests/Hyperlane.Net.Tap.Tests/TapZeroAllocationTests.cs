using Hyperlane.Linux.Netlink;
using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

public sealed class TapZeroAllocationTests
{
    /// <summary>
    /// The TAP's ingress redirects back to its own egress (tc u32 + mirred), so what the port sends comes
    /// back to its Rx: 10^5 packets Tx + Rx on this thread, after warm-up, allocate nothing.
    /// </summary>
    [SkippableFact]
    public void Tx_and_rx_allocate_nothing()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tz")}");
        lab.Ns.Run(() =>
        {
            using var nl = new RtNetlink();
            nl.AddQdisc(port.InterfaceIndex, QdiscKind.Ingress);
            nl.AddU32MirredFilter(port.InterfaceIndex, 0xFFFF0000, 1, 0, U32Match.All, MirredAction.EgressRedirect, port.InterfaceIndex);
        });
        byte[] frame = TapLab.Udp(port.MacAddress.ToString(), "02:00:00:bb:00:99", 64);
        var tx = new Mbuf[32];
        var rx = new Mbuf[32];

        long Loop(int packets)
        {
            long received = 0;
            int sent = 0;
            int idle = 0;
            while (received < packets && idle < 100_000)
            {
                if (sent < packets)
                {
                    int n = Math.Min(32, packets - sent);
                    Span<Mbuf> burst = tx.AsSpan(0, n);
                    if (lab.Pool.AllocBulk(burst) != 0)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            burst[i].TryAppend(frame.Length, out Span<byte> d);
                            frame.CopyTo(d);
                        }

                        int taken = port.TxBurst(0, burst);
                        Mbuf.FreeBulk(burst[taken..]);
                        sent += taken;
                    }
                }

                int r = port.RxBurst(0, rx);
                received += r;
                Mbuf.FreeBulk(rx.AsSpan(0, r));
                idle = r == 0 ? idle + 1 : 0;
            }

            return received;
        }

        Assert.True(Loop(5_000) > 0);
        long before = ThreadAllocations.Baseline();
        long got = Loop(100_000);
        long allocated = ThreadAllocations.Since(before);
        Assert.Equal(0, allocated);
        Assert.True(got >= 90_000, $"only {got} of 100000 came back");
    }
}
