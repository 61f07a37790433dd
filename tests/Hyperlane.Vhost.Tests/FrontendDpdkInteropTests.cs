using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Frontend;
using static Hyperlane.Vhost.Tests.FrontendTestKit;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The real peer (DESIGN.md "Real peers where they exist"): DPDK 22.11's net_vhost in dpdk-testpmd as the backend,
/// macswap-forwarding what our frontend transmits back to it. Skipped where dpdk-testpmd is not installed.
/// </summary>
[Collection(FrontendDpdkCollection.Name)]
public class FrontendDpdkInteropTests
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Packets_go_through_dpdk_net_vhost_and_come_back_macswapped(bool packed)
    {
        using var dir = new TempSocketDir("hl-fe-");
        string socket = dir.Socket;
        using var testpmd = TestPmdPeer.Start("hlfe" + Environment.ProcessId + (packed ? "p" : "s"), $"net_vhost0,iface={socket},queues=1",
            "--forward-mode=macswap", "--stats-period", "1", "--total-num-mbufs=8192", "--auto-start");
        using Mempool pool = Pool(4096);
        var options = Options(socket) with { ConnectTimeout = TimeSpan.FromSeconds(30), ReplyTimeout = TimeSpan.FromSeconds(5), PackedRing = packed };
        // net_vhost is the server: wait for its socket (EAL takes a few seconds), or for testpmd to give up.
        long ready = Environment.TickCount64 + 30_000;
        while (!File.Exists(socket) && !testpmd.HasExited && Environment.TickCount64 < ready)
        {
            Thread.Sleep(20);
        }

        Requires.Check(!testpmd.HasExited && File.Exists(socket), "dpdk-testpmd did not start here: " + testpmd.Tail());
        VhostUserFrontend frontend = VhostUserFrontend.Connect(options, pool);
        using (frontend)
        {
            Assert.True(frontend.IsConnected);
            Assert.Equal(V1 | Proto | Mrg | InOrder | (packed ? Packed : 0), frontend.NegotiatedFeatures);
            byte[][] frames = [Frame(64, 1), Frame(1000, 2), Frame(1514, 3), Frame(4000, 4)];
            for (int f = 0; f < frames.Length; f++)
            {
                Array.Copy(new byte[] { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00 }, frames[f], 14);
            }

            var received = new List<byte[]>();
            var rx = new Mbuf[64];
            long deadline = Environment.TickCount64 + 20_000;
            int sent = 0;
            while (received.Count < 40 && Environment.TickCount64 < deadline)
            {
                // net_vhost drops until its lcore sees the device ready: keep sending until packets come back.
                Mbuf[] burst = [.. frames.Select((frame, i) => i == 3 ? Chained(pool, frame, 1500) : Packet(pool, frame))];
                int taken = frontend.Transmit(0, burst);
                Mbuf.FreeBulk(burst.AsSpan(taken));
                sent += taken;
                Thread.Sleep(2);
                int n = frontend.Receive(0, rx);
                for (int i = 0; i < n; i++)
                {
                    Assert.Null(rx[i].Validate());
                    received.Add(Bytes(rx[i]));
                }

                Mbuf.FreeBulk(rx.AsSpan(0, n));
            }

            Assert.True(received.Count >= 40, $"{received.Count} of {sent} packets came back; testpmd said: {testpmd.Tail()}");
            foreach (byte[] packet in received)
            {
                byte[] original = frames.Single(f => f.Length == packet.Length);
                Assert.Equal(original.AsSpan(0, 6).ToArray(), packet.AsSpan(6, 6).ToArray());  // macswap
                Assert.Equal(original.AsSpan(6, 6).ToArray(), packet.AsSpan(0, 6).ToArray());
                Assert.Equal(original.AsSpan(12).ToArray(), packet.AsSpan(12).ToArray());
            }

            Assert.Equal(0, frontend.RxQueue(0).Stats.Faults);
            Assert.Equal(0, frontend.TxQueue(0).Stats.Faults);
            Assert.False(frontend.RxQueue(0).IsBroken);
        }

        AssertNoLeak(pool);
    }
}
