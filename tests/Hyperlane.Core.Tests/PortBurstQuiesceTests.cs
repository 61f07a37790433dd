using System.Collections.Concurrent;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Core.Tests;

/// <summary>Control operations never let a driver free what a burst on another lcore is still using.</summary>
public class PortBurstQuiesceTests
{
    [Fact]
    public void Close_waits_for_a_running_burst_before_the_driver_releases_its_queue()
    {
        var dev = new GatedDev();
        using var pool = Mempool.CreatePacketPool("quiesce-" + Guid.NewGuid().ToString("N"), 1024, 0);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();

        var burst = new Thread(() => dev.RxBurst(0, new Mbuf[4])) { IsBackground = true, Name = "lcore-burst" };
        burst.Start();
        Assert.True(dev.Entered.Wait(TimeSpan.FromSeconds(5)), "the burst never reached the driver");
        var close = new Thread(dev.Close) { IsBackground = true, Name = "control-close" };
        close.Start();
        Assert.False(close.Join(TimeSpan.FromMilliseconds(150)), "Close returned while a burst was inside the driver");
        Assert.DoesNotContain("release", dev.Events);

        dev.Go.Set();
        Assert.True(burst.Join(TimeSpan.FromSeconds(5)));
        Assert.True(close.Join(TimeSpan.FromSeconds(5)));
        Assert.Equal(["receive-begin", "receive-end", "stop", "release"], dev.Events.Where(e => e is "receive-begin" or "receive-end" or "stop" or "release").Take(4));
    }

    [Fact]
    public void Bursts_after_stop_return_zero_without_entering_the_driver()
    {
        var dev = new GatedDev();
        using var pool = Mempool.CreatePacketPool("quiesce-" + Guid.NewGuid().ToString("N"), 1024, 0);
        dev.Configure(1, 1);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.Start();
        dev.Stop();
        dev.Go.Set();
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        Assert.Equal(0, dev.TxBurst(0, new Mbuf[1]));
        Assert.DoesNotContain("receive-begin", dev.Events);
    }

    private sealed class GatedDev() : EthDev("net_gated0", "net_gated", MacAddress.Parse("02:00:00:00:00:77"))
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Go { get; } = new();

        protected override EthDevInfo GetInfo() => new() { DriverName = "net_gated" };

        protected override EthRxQueue OnSetupRxQueue(int queueId, int descriptors, Mempool pool, RxQueueConf conf) => new GatedRx(this, queueId, descriptors, pool);

        protected override EthTxQueue OnSetupTxQueue(int queueId, int descriptors, TxQueueConf conf) => new GatedTx(queueId, descriptors);

        protected override void OnStop() => Events.Enqueue("stop");

        private sealed class GatedRx(GatedDev dev, int queueId, int descriptors, Mempool pool) : EthRxQueue(queueId, descriptors, pool)
        {
            public override int Receive(Span<Mbuf> packets)
            {
                dev.Events.Enqueue("receive-begin");
                dev.Entered.Set();
                dev.Go.Wait(TimeSpan.FromSeconds(10));
                dev.Events.Enqueue("receive-end");
                return 0;
            }

            public override void Release() => dev.Events.Enqueue("release");
        }

        private sealed class GatedTx(int queueId, int descriptors) : EthTxQueue(queueId, descriptors)
        {
            public override int Transmit(ReadOnlySpan<Mbuf> packets) => 0;
        }
    }
}
