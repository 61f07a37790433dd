using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Interrupt suppression (virtio 1.2 §2.7.7, §2.7.10): VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX, used_event with it; interrupts counted on a real eventfd.</summary>
public class SplitNotifyTests
{
    private const ulong V1 = SplitTxTests.V1;
    private const ulong EventIdx = 1UL << VirtioFeatures.RingEventIdx;

    private static void PostTx(SplitRingDriver driver, int count)
    {
        for (int i = 0; i < count; i++)
        {
            driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(80, i)), int.MaxValue);
        }
    }

    private static int Dequeue(SplitRingDriver driver, SplitVhostQueue queue, int max)
    {
        int n = SplitTxTests.DequeueBytes(queue, driver.Pool, max).Count;
        driver.PopUsed();
        return n;
    }

    [Fact]
    public void Without_event_idx_every_publish_interrupts_unless_no_interrupt_is_set()
    {
        using var driver = new SplitRingDriver(256, V1, call: true);
        SplitVhostQueue queue = driver.CreateQueue();

        Assert.Equal(0, Dequeue(driver, queue, 32));
        Assert.Equal(0u, driver.TakeInterrupts()); // nothing used, nothing to say

        PostTx(driver, 3);
        Assert.Equal(3, Dequeue(driver, queue, 32));
        Assert.Equal(1u, driver.TakeInterrupts()); // one per burst, not per packet

        driver.AvailFlags = VirtqAvailHeader.FlagNoInterrupt;
        PostTx(driver, 3);
        Assert.Equal(3, Dequeue(driver, queue, 32));
        Assert.Equal(0u, driver.TakeInterrupts());

        driver.AvailFlags = 0;
        PostTx(driver, 2);
        Assert.Equal(1, Dequeue(driver, queue, 1));
        Assert.Equal(1, Dequeue(driver, queue, 1));
        Assert.Equal(2u, driver.TakeInterrupts());
        Assert.Equal(3, queue.Stats.GuestNotifications);
    }

    [Fact]
    public void Receive_interrupts_follow_the_same_rules()
    {
        using var driver = new SplitRingDriver(256, V1, call: true);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int i = 0; i < 4; i++)
        {
            driver.PostRx(2048);
        }

        Assert.Equal(2, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 1), SplitPackets.Frame(64, 2)));
        Assert.Equal(1u, driver.TakeInterrupts());
        driver.AvailFlags = VirtqAvailHeader.FlagNoInterrupt;
        Assert.Equal(2, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 1), SplitPackets.Frame(64, 2)));
        Assert.Equal(0u, driver.TakeInterrupts());
        Assert.Equal(0, SplitRxTests.Enqueue(driver, queue, SplitPackets.Frame(64, 3)));
        Assert.Equal(0u, driver.TakeInterrupts());
    }

    [Fact]
    public void With_event_idx_the_guest_is_interrupted_only_when_used_passes_used_event()
    {
        using var driver = new SplitRingDriver(256, V1 | EventIdx, call: true);
        SplitVhostQueue queue = driver.CreateQueue();
        driver.UsedEvent = 0;
        driver.AvailFlags = VirtqAvailHeader.FlagNoInterrupt; // ignored with EVENT_IDX
        PostTx(driver, 10);

        // The first publish after setup always interrupts (nothing signalled yet: Linux/DPDK signalled_used_valid).
        Assert.Equal(1, Dequeue(driver, queue, 1)); // used 0 → 1
        Assert.Equal(1u, driver.TakeInterrupts());

        driver.UsedEvent = 5; // "interrupt me when you use entry 5"
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(1, Dequeue(driver, queue, 1)); // used 1 → 10, one at a time
            Assert.Equal(i == 4 ? 1u : 0u, driver.TakeInterrupts()); // only on 5 → 6
        }

        driver.UsedEvent = 20;
        PostTx(driver, 12);
        Assert.Equal(4, Dequeue(driver, queue, 4)); // 10 → 14
        Assert.Equal(4, Dequeue(driver, queue, 4)); // 14 → 18
        Assert.Equal(0u, driver.TakeInterrupts());
        Assert.Equal(4, Dequeue(driver, queue, 4)); // 18 → 22 passes 20
        Assert.Equal(1u, driver.TakeInterrupts());

        driver.UsedEvent = 21; // already behind
        PostTx(driver, 1);
        Assert.Equal(1, Dequeue(driver, queue, 1));
        Assert.Equal(0u, driver.TakeInterrupts());
        Assert.Equal(3, queue.Stats.GuestNotifications);
    }

    [Fact]
    public void Event_idx_across_the_16_bit_wrap()
    {
        using var driver = new SplitRingDriver(64, V1 | EventIdx, call: true, baseIndex: 65530);
        SplitVhostQueue queue = driver.CreateQueue();
        PostTx(driver, 1);
        Assert.Equal(1, Dequeue(driver, queue, 1)); // 65530 → 65531, first publish
        Assert.Equal(1u, driver.TakeInterrupts());
        driver.UsedEvent = 2; // after the wrap
        PostTx(driver, 20);
        Assert.Equal(4, Dequeue(driver, queue, 4)); // 65531 → 65535
        Assert.Equal(0u, driver.TakeInterrupts());
        Assert.Equal(4, Dequeue(driver, queue, 4)); // 65535 → 3 passes 2
        Assert.Equal(1u, driver.TakeInterrupts());
    }

    [Theory]
    [InlineData(5, 6, 5, true)]
    [InlineData(5, 5, 4, false)]
    [InlineData(5, 10, 0, true)]
    [InlineData(20, 10, 0, false)]
    [InlineData(0xFFFF, 3, 0xFFFE, true)]
    [InlineData(1, 3, 0xFFFE, true)]
    [InlineData(4, 3, 0xFFFE, false)]
    public void Need_event_is_vring_need_event(int eventIdx, int newIdx, int old, bool expected) =>
        Assert.Equal(expected, SplitVhostQueue.NeedEvent((ushort)eventIdx, (ushort)newIdx, (ushort)old));
}
