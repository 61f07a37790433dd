using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Live-migration dirty logging through the session: VHOST_F_LOG_ALL + SET_LOG_BASE, and the rings rebuilt when it changes.</summary>
[Collection(SessionCollection.Name)]
public class SessionDirtyLogTests
{
    private const ulong LogAll = 1UL << VirtioFeatures.VhostLogAll;
    private const VhostUserProtocolFeatures Protocol = SessionHarness.BasicProtocol | VhostUserProtocolFeatures.LogShmfd;

    [Theory]
    [InlineData(0UL)]
    [InlineData(4096UL)] // the bitmap starts 4 KiB into the log fd: applied once (DPDK applies it twice)
    public void Enqueue_marks_exactly_the_pages_written(ulong logOffset)
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var log = new SessionTestGuest(8192); // any memfd: the log
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures | LogAll, Protocol);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        fe.SetLogBase(4096, logOffset, log.Fd);
        var rx = SessionSplitRing.Standard(guest, 0); // used ring at gpa 0x3000: page 3
        var tx = SessionSplitRing.Standard(guest, 1);
        fe.SetupSplitRing(rx, log: true);
        fe.SetupSplitRing(tx, log: true);
        Clear(log);

        // A buffer across a page boundary: [0x10F80, 0x10F80 + 12 + 200) touches pages 0x10 and 0x11.
        rx.PostRx(0x10F80, 2048);
        using Mempool pool = SessionHarness.CreatePool();
        Mbuf m = SessionHarness.Packet(pool, SessionHarness.Frame(200, 5));
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? q));
        Assert.Equal(1, q.Enqueue([m]));
        h.Backend.Slots[0].Exit();
        m.Free();

        Assert.Equal([3UL, 0x10, 0x11], DirtyPages(log, logOffset, 4096));
        if (logOffset != 0)
        {
            Assert.Empty(DirtyPages(log, 0, (int)logOffset)); // nothing before the bitmap
        }
    }

    [Fact]
    public void Without_LOG_ALL_nothing_is_marked_and_turning_it_on_rebuilds_the_live_queues()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var log = new SessionTestGuest(4096);
        using var fe = h.Connect();
        fe.Negotiate(SessionHarness.SplitFeatures, Protocol);
        fe.SetMemTable([guest.Region], [guest.Fd]);
        fe.SetLogBase(4096, 0, log.Fd);
        var rx = SessionSplitRing.Standard(guest, 0);
        fe.SetupSplitRing(rx, log: true);
        fe.SetupSplitRing(SessionSplitRing.Standard(guest, 1), log: true);
        using Mempool pool = SessionHarness.CreatePool();
        Mbuf m = SessionHarness.Packet(pool, SessionHarness.Frame(100, 1));

        rx.PostRx(0x10000, 2048);
        Enqueue(h, m);
        Assert.Empty(DirtyPages(log, 0, 4096));

        // Migration starts: SET_FEATURES with VHOST_F_LOG_ALL while the rings run (the only change allowed then).
        IVhostQueue? before = h.Backend.Slots[0].Current;
        fe.SetU64(VhostUserRequest.SetFeatures, SessionHarness.SplitFeatures | LogAll);
        Assert.NotSame(before, h.Backend.Slots[0].Current);
        Clear(log);
        rx.PostRx(0x12000, 2048);
        Enqueue(h, m);
        Assert.Equal([3UL, 0x12], DirtyPages(log, 0, 4096));

        // A new log replaces the old one (unmapped) and the queues mark the new one.
        using var log2 = new SessionTestGuest(4096);
        fe.SetLogBase(4096, 0, log2.Fd);
        Assert.Equal(1, SessionWait.Mappings(log.Name)); // only the test's own view of the old log
        rx.PostRx(0x14000, 2048);
        Enqueue(h, m);
        // Rebuilding the queues over the new log rewrites used->flags of both rings (pages 3 and 6): logged too.
        Assert.Equal([3UL, 6, 0x14], DirtyPages(log2, 0, 4096));

        // Migration ends: LOG_ALL off, nothing marked any more.
        fe.SetU64(VhostUserRequest.SetFeatures, SessionHarness.SplitFeatures);
        Clear(log2);
        rx.PostRx(0x16000, 2048);
        Enqueue(h, m);
        Assert.Empty(DirtyPages(log2, 0, 4096));
        m.Free();
        Assert.Equal(4, rx.UsedIdx);
    }

    private static void Enqueue(SessionHarness h, Mbuf m)
    {
        Assert.True(h.Backend.Slots[0].TryEnter(out IVhostQueue? q));
        try
        {
            Assert.Equal(1, q.Enqueue([m]));
        }
        finally
        {
            h.Backend.Slots[0].Exit();
        }
    }

    private static void Clear(SessionTestGuest log) => log.At(0, (int)log.Size).Clear();

    private static List<ulong> DirtyPages(SessionTestGuest log, ulong offset, int bytes)
    {
        var pages = new List<ulong>();
        Span<byte> bitmap = log.At(offset, bytes);
        for (int i = 0; i < bitmap.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                if ((bitmap[i] & (1 << bit)) != 0)
                {
                    pages.Add(((ulong)i * 8) + (ulong)bit);
                }
            }
        }

        return pages;
    }
}
