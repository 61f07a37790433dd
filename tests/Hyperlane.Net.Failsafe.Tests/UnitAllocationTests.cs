using Hyperlane.Memory;
using Hyperlane.Testing;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>The failsafe data path allocates nothing: 10^6 packets forwarded (RxBurst then TxBurst) on an lcore thread.</summary>
public class UnitAllocationTests
{
    private const long Packets = 1_000_000;
    private const long WarmUp = 50_000;
    private const int Burst = 32;

    /// <summary>Receives a burst on the failsafe port and sends it back out of it; frees what Tx did not take.</summary>
    private static long Forward(FailsafeEthDev fs, Mbuf[] burst, long target)
    {
        long done = 0;
        int idle = 0;
        while (done < target && idle < 1_000)
        {
            int n = fs.RxBurst(0, burst);
            int sent = fs.TxBurst(0, burst.AsSpan(0, n));
            if (sent < n)
            {
                Mbuf.FreeBulk(burst.AsSpan(sent, n - sent));
            }

            done += sent;
            idle = sent == 0 ? idle + 1 : 0;
        }

        return done;
    }

    [Fact]
    public void Forwarding_through_a_failsafe_port_over_two_null_sub_devices_allocates_nothing()
    {
        using var pool = Unit.Pool("alloc_null", 2048, cacheSize: 256);
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_null0),dev(net_null1)," + Unit.NoPoll);
        Unit.Start(fs, pool);

        var (warm, forwarded, allocated) = Unit.OnLcore(() =>
        {
            var burst = new Mbuf[Burst];
            long warm = Forward(fs, burst, WarmUp);
            long before = ThreadAllocations.Baseline();
            long forwarded = Forward(fs, burst, Packets);
            long allocated = ThreadAllocations.Since(before);
            return (warm, forwarded, allocated);
        });

        Assert.True(warm >= WarmUp, $"warm-up forwarded only {warm}");
        Assert.True(forwarded >= Packets, $"forwarded only {forwarded}");
        Assert.Equal(0, allocated);
        var s = fs.GetStats();
        Assert.Equal(warm + forwarded, s.TxPackets);
        Assert.Equal(warm + forwarded, s.RxPackets);

        // Both sub-devices received (an equal share), the preferred one sent everything.
        Assert.Equal(s.RxPackets / 2, fs.GetSubDevicePort(0)!.GetStats().RxPackets);
        Assert.Equal(s.RxPackets / 2, fs.GetSubDevicePort(1)!.GetStats().RxPackets);
        Assert.Equal(s.TxPackets, fs.GetSubDevicePort(0)!.GetStats().TxPackets);
        Assert.True(pool.Audit().IsFull, pool.Audit().ToString());
        Assert.Equal(0, pool.DoubleFreeCount);
    }

    [Fact]
    public void Forwarding_through_a_failsafe_port_over_two_ring_sub_devices_allocates_nothing()
    {
        const int inFlight = 256;
        using var pool = Unit.Pool("alloc_ring", 2048, cacheSize: 256);
        using var rt = Unit.Runtime(out _);

        // Each ring sub-device loops back to itself; packets put on both circulate through the failsafe port.
        var fs = Unit.Probe(rt, "net_failsafe0,dev(net_ring0),dev(net_ring1)," + Unit.NoPoll);
        Unit.Start(fs, pool);

        var (warm, forwarded, allocated, drained) = Unit.OnLcore(() =>
        {
            var inject = new Mbuf[inFlight];
            for (int sub = 0; sub < 2; sub++)
            {
                Assert.Equal(inFlight, pool.AllocBulk(inject));
                foreach (var m in inject)
                {
                    Assert.True(m.TryAppend(64, out _));
                }

                Assert.Equal(inFlight, fs.GetSubDevicePort(sub)!.TxBurst(0, inject)); // the data path needs no owner
            }

            var burst = new Mbuf[Burst];
            long warm = Forward(fs, burst, WarmUp);
            long before = ThreadAllocations.Baseline();
            long forwarded = Forward(fs, burst, Packets);
            long allocated = ThreadAllocations.Since(before);

            long drained = 0;
            int n;
            while ((n = fs.RxBurst(0, burst)) > 0)
            {
                Mbuf.FreeBulk(burst.AsSpan(0, n));
                drained += n;
            }

            return (warm, forwarded, allocated, drained);
        });

        Assert.True(warm >= WarmUp, $"warm-up forwarded only {warm}");
        Assert.True(forwarded >= Packets, $"forwarded only {forwarded}");
        Assert.Equal(0, allocated);
        Assert.Equal(2 * inFlight, drained);
        var s = fs.GetStats();
        Assert.Equal(warm + forwarded + (2 * inFlight), s.TxPackets); // the injection went through the sub-devices' Tx
        Assert.Equal(warm + forwarded + drained, s.RxPackets);
        Assert.Equal(0, s.TxErrors);
        Assert.True(pool.Audit().IsFull, pool.Audit().ToString());
        Assert.Equal(0, pool.DoubleFreeCount);
    }
}
