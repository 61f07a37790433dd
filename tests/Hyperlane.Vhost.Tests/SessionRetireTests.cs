using System.Diagnostics;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Memory;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Session;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The hand-off between the session and the data path (<see cref="VhostQueueSlot"/>): a queue is retired, and what it
/// reads is unmapped, only once the data path is out of it.
/// </summary>
[Collection(SessionCollection.Name)]
public class SessionRetireTests
{
    [Fact]
    public void TryEnter_sees_nothing_before_publish_and_after_retire()
    {
        var slot = new VhostQueueSlot(3);
        Assert.False(slot.TryEnter(out _));
        var queue = new SessionObservedQueue(null);
        slot.Publish(queue);
        Assert.True(slot.TryEnter(out IVhostQueue? q));
        Assert.Same(queue, q);
        slot.Exit();
        Assert.True(slot.TryRetire(TimeSpan.FromSeconds(1), out IVhostQueue? retired));
        Assert.Same(queue, retired);
        Assert.False(slot.TryEnter(out _));
        Assert.False(slot.IsActive);
    }

    [Fact]
    public void Retire_waits_for_the_data_path_and_gives_up_after_its_timeout()
    {
        var slot = new VhostQueueSlot(0);
        slot.Publish(new SessionObservedQueue(null));
        Assert.True(slot.TryEnter(out _)); // a data path stuck inside
        var watch = Stopwatch.StartNew();
        Assert.False(slot.TryRetire(TimeSpan.FromMilliseconds(100), out IVhostQueue? retired));
        Assert.InRange(watch.ElapsedMilliseconds, 90, 5000);
        Assert.NotNull(retired);
        Assert.False(slot.TryEnter(out _)); // new entries see no queue meanwhile
        slot.Exit();
        Assert.True(slot.WaitQuiescent(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void TryEnter_and_Exit_allocate_nothing()
    {
        var slot = new VhostQueueSlot(0);
        slot.Publish(new SessionObservedQueue(null));
        for (int i = 0; i < 100; i++)
        {
            slot.TryEnter(out _);
            slot.Exit();
        }

        long before = ThreadAllocations.Baseline();
        for (int i = 0; i < 10_000; i++)
        {
            if (slot.TryEnter(out IVhostQueue? q))
            {
                _ = q.Index;
                slot.Exit();
            }
        }

        Assert.Equal(0, ThreadAllocations.Since(before));
    }

    [Fact]
    public void A_data_path_looping_in_TryEnter_Exit_never_sees_unmapped_memory_while_queues_are_swapped()
    {
        // Each queue reads a mapping of its own; the control side retires the queue, then unmaps. If a retire returned
        // while the data path was still inside, the data path would see the mapping disposed (counted) or fault.
        using var memfd = new SessionTestGuest(1 << 16);
        var slot = new VhostQueueSlot(0);
        long entered = 0, violations = 0;
        bool stop = false;
        var dataPath = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                if (slot.TryEnter(out IVhostQueue? q))
                {
                    try
                    {
                        if (((SessionObservedQueue)q).Touch())
                        {
                            Interlocked.Increment(ref violations);
                        }

                        entered++;
                    }
                    finally
                    {
                        slot.Exit();
                    }
                }
            }
        })
        { IsBackground = true };
        dataPath.Start();

        SharedMapping? current = null;
        for (int i = 0; i < 2000; i++)
        {
            SharedMapping next = SharedMapping.Map(memfd.Fd, 0, 1 << 16);
            Assert.True(slot.TryRetire(TimeSpan.FromSeconds(1), out _));
            current?.Dispose(); // only now: nobody can be inside the queue that read it
            slot.Publish(new SessionObservedQueue(next));
            current = next;
            if (i % 100 == 0)
            {
                Thread.Sleep(1);
            }
        }

        Volatile.Write(ref stop, true);
        dataPath.Join();
        Assert.True(slot.TryRetire(TimeSpan.FromSeconds(1), out _));
        current?.Dispose();
        Assert.Equal(0, Interlocked.Read(ref violations));
        Assert.True(entered > 1000, $"the data path entered only {entered} times");
        Assert.Equal(1, SessionWait.Mappings(memfd.Name));
    }

    [Fact]
    public void Memory_table_swaps_while_a_data_path_runs_unmap_only_retired_tables()
    {
        using var h = SessionHarness.Create();
        using var guest = new SessionTestGuest();
        using var fe = h.Connect();
        (SessionSplitRing rx, SessionSplitRing tx) = h.SetUpSplit(fe, guest);
        using Mempool pool = SessionHarness.CreatePool(512);
        Mbuf packet = SessionHarness.Packet(pool, SessionHarness.Frame(64, 1));
        for (int i = 0; i < 8; i++)
        {
            rx.PostRx(0x10000 + ((ulong)i * 0x1000), 2048);
        }

        long rxEntries = 0, txEntries = 0, delivered = 0;
        Exception? failure = null;
        bool stop = false;
        var dataPath = new Thread(() =>
        {
            var burst = new Mbuf[8];
            try
            {
                while (!Volatile.Read(ref stop))
                {
                    if (h.Backend.Slots[0].TryEnter(out IVhostQueue? q))
                    {
                        try
                        {
                            delivered += q.Enqueue([packet]);
                            rxEntries++;
                        }
                        finally
                        {
                            h.Backend.Slots[0].Exit();
                        }
                    }

                    if (h.Backend.Slots[1].TryEnter(out q))
                    {
                        try
                        {
                            int n = q.Dequeue(pool, burst);
                            Mbuf.FreeBulk(burst.AsSpan(0, n));
                            txEntries++;
                        }
                        finally
                        {
                            h.Backend.Slots[1].Exit();
                        }
                    }
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        { IsBackground = true };
        dataPath.Start();

        // Table A: one 4 MiB region. Table B: the same RAM as two 2 MiB regions. Each swap retires both queues,
        // unmaps the old table and rebuilds the queues over the new one.
        VhostMemoryRegion[] a = [guest.Region];
        VhostMemoryRegion[] b = [guest.RegionAt(0, 2 << 20), guest.RegionAt(2 << 20, 2 << 20)];
        for (int i = 0; i < 100; i++)
        {
            bool useB = i % 2 == 0;
            fe.SetMemTable(useB ? b : a, useB ? [guest.Fd, guest.Fd] : [guest.Fd]);
            Assert.True(h.Backend.Slots[0].IsActive);
            Assert.True(h.Backend.Slots[1].IsActive);

            // The test's own mapping, plus exactly the regions of the current table.
            Assert.Equal(1 + (useB ? 2 : 1), SessionWait.Mappings(guest.Name));
            if (i % 10 == 0)
            {
                rx.PostRx(0x20000 + ((ulong)i * 0x100), 2048);
            }
        }

        Volatile.Write(ref stop, true);
        dataPath.Join();
        packet.Free();
        Assert.Null(failure);
        Assert.True(rxEntries > 0 && txEntries > 0, $"data path entries: rx {rxEntries}, tx {txEntries}");
        Assert.Equal(0, h.Counters.RetireTimeouts);
        Assert.Equal(0, h.Counters.ConnectionsDroppedForErrors);

        // The base survived every rebuild: what the guest sees used is what was delivered.
        Assert.Equal((ushort)delivered, rx.UsedIdx);
        Assert.Equal((uint)delivered, fe.GetVringBase(0));
        Assert.Equal(0u, fe.GetVringBase(1));
        Assert.Equal(delivered, h.Backend.Slots[0].RetiredPackets);
    }
}
