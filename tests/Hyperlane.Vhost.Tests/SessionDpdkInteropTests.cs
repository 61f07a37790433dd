using System.Diagnostics;
using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Our backend against the real frontend: DPDK 22.11's testpmd with a net_virtio_user port on our socket, macswap
/// forwarding. We enqueue frames into the guest's receive ring; testpmd receives them, swaps the MACs and sends
/// them back through its transmit ring, where we dequeue them. Counts and contents are checked on our side, and
/// testpmd's own Rx/Tx counters at exit.
/// </summary>
[Collection(FrontendDpdkCollection.Name)]
public class SessionDpdkInteropTests
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dpdk_virtio_user_receives_our_frames_and_sends_them_back_macswapped(bool packed)
    {
        using var harness = SessionHarness.Create();
        VhostUserBackend backend = harness.Backend;
        string vdev = $"net_virtio_user0,path={harness.SocketPath},queues=1,queue_size=256" + (packed ? ",packed_vq=1" : string.Empty);
        using var testpmd = TestPmdPeer.Start("hlvu" + Environment.ProcessId + (packed ? "p" : "s"), vdev,
            "--forward-mode=macswap", "--total-num-mbufs=8192", "--auto-start", "-i");
        using Mempool pool = SessionHarness.CreatePool(4096);
        var sw = Stopwatch.StartNew();
        while (!backend.IsReady && !testpmd.HasExited && sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(20);
        }

        Requires.Check(backend.IsReady, "dpdk-testpmd's virtio_user never made our backend ready: " + testpmd.Tail());
        Assert.Equal(packed, (backend.NegotiatedFeatures & (1UL << Virtio.VirtioFeatures.RingPacked)) != 0);

        byte[][] frames = [Frame(64, 1), Frame(1000, 2), Frame(1514, 3)];
        var back = new List<byte[]>();
        var rx = new Mbuf[32];
        int sent = 0;
        while (back.Count < 300 && sw.Elapsed < TimeSpan.FromSeconds(45))
        {
            // testpmd may drop a few while its forwarding starts: keep sending until 300 came back.
            Mbuf[] burst = [.. frames.Select(f => SessionHarness.Packet(pool, f))];
            int taken = Enqueue(backend.Slots[0], burst);
            sent += taken;
            Mbuf.FreeBulk(burst); // the queue copied what it took; the caller owns every mbuf

            int n = Dequeue(backend.Slots[1], pool, rx);
            for (int i = 0; i < n; i++)
            {
                back.Add(Bytes(rx[i]));
            }

            Mbuf.FreeBulk(rx.AsSpan(0, n));
            Thread.Sleep(1);
        }

        Assert.True(back.Count >= 300, $"{back.Count} of {sent} frames came back; testpmd said: {testpmd.Tail()}");
        Assert.True(sent >= back.Count);
        foreach (byte[] frame in back)
        {
            byte[] original = frames.Single(f => f.Length == frame.Length);
            Assert.Equal(original.AsSpan(0, 6).ToArray(), frame.AsSpan(6, 6).ToArray()); // macswap
            Assert.Equal(original.AsSpan(6, 6).ToArray(), frame.AsSpan(0, 6).ToArray());
            Assert.Equal(original.AsSpan(12).ToArray(), frame.AsSpan(12).ToArray());
        }

        Assert.True(backend.Slots[0].TryEnter(out IVhostQueue? guestRx));
        backend.Slots[0].Exit();
        Assert.True(backend.Slots[1].TryEnter(out IVhostQueue? guestTx));
        backend.Slots[1].Exit();
        Assert.Equal(0, guestRx.Stats.Faults);
        Assert.Equal(0, guestTx.Stats.Faults);
        Assert.Equal(0, backend.Counters.MalformedMessages);

        // testpmd's side: quit prints the port's totals.
        Assert.True(testpmd.Quit(TimeSpan.FromSeconds(20)), "testpmd did not quit");
        string text = testpmd.Tail();
        Assert.Matches(@"RX-packets: [1-9][0-9]{2,}", text);
        Assert.Matches(@"TX-packets: [1-9][0-9]{2,}", text);
    }

    private static int Enqueue(VhostQueueSlot slot, ReadOnlySpan<Mbuf> packets)
    {
        if (!slot.TryEnter(out IVhostQueue? q))
        {
            return 0;
        }

        try
        {
            return q.Enqueue(packets);
        }
        finally
        {
            slot.Exit();
        }
    }

    private static int Dequeue(VhostQueueSlot slot, Mempool pool, Span<Mbuf> packets)
    {
        if (!slot.TryEnter(out IVhostQueue? q))
        {
            return 0;
        }

        try
        {
            return q.Dequeue(pool, packets);
        }
        finally
        {
            slot.Exit();
        }
    }

    private static byte[] Frame(int length, byte seed)
    {
        byte[] f = SessionHarness.Frame(length, seed);
        byte[] header = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
        header.CopyTo(f, 0);
        return f;
    }

    private static byte[] Bytes(Mbuf m)
    {
        var b = new byte[m.PacketLength];
        m.CopyTo(b);
        return b;
    }
}
