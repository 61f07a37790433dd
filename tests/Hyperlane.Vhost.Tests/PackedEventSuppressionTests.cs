using Hyperlane.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Used buffer notifications (virtio 1.2 §2.8.10, §2.8.14): the driver event suppression area decides whether a
/// burst that used descriptors writes the call eventfd; the device area always says DISABLE (the backend polls).
/// </summary>
public sealed class PackedEventSuppressionTests
{
    private static int Burst(PackedTestBench b, int count)
    {
        for (int i = 0; i < count; i++)
        {
            b.PostTx(PackedTestBench.Pattern(64, i));
        }

        var packets = new Mbuf[count];
        int n = b.Queue.Dequeue(b.Pool, packets);
        Mbuf.FreeBulk(packets.AsSpan(0, n));
        b.Driver.TakeAllUsed();
        return n;
    }

    [Fact]
    public void The_device_area_asks_for_no_kicks()
    {
        using var b = PackedTestBench.Create();
        Assert.Equal(PackedEventFlags.Disable, b.Driver.ReadDeviceEvent().EventFlags);
    }

    [Theory]
    [InlineData(PackedEventFlags.Enable, 3ul)]
    [InlineData(PackedEventFlags.Disable, 0ul)]
    [InlineData(PackedEventFlags.Desc, 3ul)] // DESC without EVENT_IDX is not valid: treated as "not disabled"
    [InlineData((PackedEventFlags)3, 3ul)]   // reserved
    public void Without_event_idx_only_disable_suppresses(PackedEventFlags flags, ulong expected)
    {
        using var b = PackedTestBench.Create(call: true);
        b.Driver.SetDriverEvent(flags, 5, true);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(2, Burst(b, 2));
        }

        Assert.Equal(expected, b.TakeSignals());
        Assert.Equal((long)expected, b.Stats.GuestNotifications);
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_burst_that_used_nothing_does_not_notify()
    {
        using var b = PackedTestBench.Create(call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, new Mbuf[4]));
        Mbuf p = b.MakePacket(new byte[10]);
        Assert.Equal(0, b.Queue.Enqueue([p]));
        p.Free();
        Assert.Equal(0ul, b.TakeSignals());
        b.AssertNoLeaks();
    }

    [Fact]
    public void Without_a_call_eventfd_nothing_is_sent_and_nothing_fails()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.EventIdx);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(2, Burst(b, 2));
        Assert.Equal(0, b.Stats.GuestNotifications);
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_event_idx_desc_notifies_once_the_named_descriptor_is_used()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.EventIdx, call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Desc, 5, true);
        Assert.Equal(2, Burst(b, 2));              // 0, 1: the first check after setup always notifies
        Assert.Equal(1ul, b.TakeSignals());
        Assert.Equal(2, Burst(b, 2));              // 2, 3
        Assert.Equal(0ul, b.TakeSignals());
        Assert.Equal(2, Burst(b, 2));              // 4, 5: covers 5
        Assert.Equal(1ul, b.TakeSignals());
        Assert.Equal(2, Burst(b, 2));              // 6, 7: 5 is behind
        Assert.Equal(0ul, b.TakeSignals());
        b.Driver.SetDriverEvent(PackedEventFlags.Disable);
        Assert.Equal(2, Burst(b, 2));
        Assert.Equal(0ul, b.TakeSignals());
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(2, Burst(b, 2));
        Assert.Equal(1ul, b.TakeSignals());
        b.AssertNoLeaks();
    }

    [Fact]
    public void With_event_idx_the_wrap_counter_tells_laps_apart()
    {
        using var b = PackedTestBench.Create(size: 8, features: PackedTestBench.Modern | PackedTestBench.EventIdx, call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(4, Burst(b, 4)); // 0..3, lap 1 (wrap 1)
        b.TakeSignals();

        b.Driver.SetDriverEvent(PackedEventFlags.Desc, 2, wrap: false); // slot 2 of the second lap
        Assert.Equal(4, Burst(b, 4)); // 4..7 of lap 1
        Assert.Equal(0ul, b.TakeSignals());
        Assert.Equal(2, Burst(b, 2)); // 0, 1 of lap 2
        Assert.Equal(0ul, b.TakeSignals());
        Assert.Equal(2, Burst(b, 2)); // 2, 3 of lap 2
        Assert.Equal(1ul, b.TakeSignals());

        b.Driver.SetDriverEvent(PackedEventFlags.Desc, 5, wrap: true); // slot 5 of lap 3
        Assert.Equal(4, Burst(b, 4)); // 4..7 of lap 2: slot 5 but with wrap 0
        Assert.Equal(0ul, b.TakeSignals());
        Assert.Equal(6, Burst(b, 6)); // 0..5 of lap 3
        Assert.Equal(1ul, b.TakeSignals());
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_chain_that_covers_the_named_descriptor_notifies_even_if_no_used_descriptor_lands_on_it()
    {
        using var b = PackedTestBench.Create(features: PackedTestBench.Modern | PackedTestBench.EventIdx, call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        Assert.Equal(1, Burst(b, 1)); // slot 0
        b.TakeSignals();
        b.Driver.SetDriverEvent(PackedEventFlags.Desc, 3, true);
        b.PostTx(PackedTestBench.Pattern(100, 1), [3, 3, 3, 3]); // slots 1..5, its used descriptor at 1
        var packets = new Mbuf[1];
        Assert.Equal(1, b.Queue.Dequeue(b.Pool, packets));
        Assert.Equal(1ul, b.TakeSignals());
        Mbuf.FreeBulk(packets);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Receive_bursts_notify_too()
    {
        using var b = PackedTestBench.Create(call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        b.PostRx(2000);
        b.PostRx(2000);
        Mbuf p = b.MakePacket(PackedTestBench.Pattern(100, 1));
        Assert.Equal(1, b.Queue.Enqueue([p]));
        Assert.Equal(1ul, b.TakeSignals());
        b.Driver.SetDriverEvent(PackedEventFlags.Disable);
        Assert.Equal(1, b.Queue.Enqueue([p]));
        Assert.Equal(0ul, b.TakeSignals());
        p.Free();
        b.AssertNoLeaks();
    }

    [Fact]
    public void A_malformed_chain_given_back_is_a_use_and_notifies()
    {
        using var b = PackedTestBench.Create(call: true);
        b.Driver.SetDriverEvent(PackedEventFlags.Enable);
        b.Driver.PostRaw([new VirtqPackedDesc(0xDEAD_0000_0000, 100, 1, 0)], 1);
        Assert.Equal(0, b.Queue.Dequeue(b.Pool, new Mbuf[4]));
        Assert.Equal(1ul, b.TakeSignals());
        Assert.Equal(VhostQueueFault.AddressNotMapped, b.Stats.LastFault);
    }
}
