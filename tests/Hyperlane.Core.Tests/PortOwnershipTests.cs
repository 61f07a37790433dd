using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

public class PortOwnershipTests
{
    private static (TestEthDev A, TestEthDev B) TwoPorts(HyperlaneRuntime rt)
    {
        var a = new TestEthDev("sub0");
        var b = new TestEthDev("app0");
        rt.Ports.Register(a);
        rt.Ports.Register(b);
        return (a, b);
    }

    [Fact]
    public void A_claimed_port_is_hidden_from_the_application_but_listed_for_its_owner()
    {
        using var rt = new HyperlaneRuntime();
        var (a, b) = TwoPorts(rt);
        var owner = new EthDevOwner("net_failsafe0");

        rt.Ports.Claim(a, owner);

        Assert.Same(owner, a.Owner);
        Assert.Equal([b], rt.Ports.Ports);
        Assert.Equal([a, b], rt.Ports.All);
        Assert.Equal(2, rt.Ports.Count);
        Assert.Equal([a], rt.Ports.OwnedBy(owner));
        Assert.Empty(rt.Ports.OwnedBy(new EthDevOwner("other")));
        Assert.Same(a, rt.Ports.Get(a.PortId)); // lookup by id still works
    }

    [Fact]
    public void Control_operations_outside_the_owner_scope_name_the_owner()
    {
        using var pool = TestPools.Packets("own");
        using var rt = new HyperlaneRuntime();
        var (a, _) = TwoPorts(rt);
        var owner = new EthDevOwner("net_failsafe0");
        rt.Ports.Claim(a, owner);

        var cases = new (string Op, Action Action)[]
        {
            ("configure", () => a.Configure(1, 1)),
            ("start", a.Start),
            ("stop", a.Stop),
            ("reset", a.Reset),
            ("close", a.Close),
            ("MTU set", () => a.SetMtu(1400)),
            ("promiscuous enable", a.EnablePromiscuous),
            ("link up", a.SetLinkUp),
        };
        foreach (var (op, action) in cases)
        {
            var ex = PortAssert.Fails<EthDevException>(a, op, Errno.EPERM, action);
            Assert.Equal($"port 0 (sub0): {op}: the port is owned by net_failsafe0; use it through its owner (EPERM)", ex.Message);
        }

        Assert.Equal(EthDevState.Unconfigured, a.State);
        Assert.Equal(0, a.ConfigureCalls);
    }

    [Fact]
    public void Inside_the_owner_scope_control_operations_work_and_reads_work_anywhere()
    {
        using var pool = TestPools.Packets("own");
        using var rt = new HyperlaneRuntime();
        var (a, _) = TwoPorts(rt);
        var owner = new EthDevOwner("net_failsafe0");
        rt.Ports.Claim(a, owner);

        Assert.Null(EthDevOwner.Current);
        using (owner.Enter())
        {
            Assert.Same(owner, EthDevOwner.Current);
            a.Configure(1, 1);
            a.SetupRxQueue(0, 64, pool);
            a.SetupTxQueue(0, 64);
            a.Start();
            a.EnablePromiscuous();
        }

        Assert.Null(EthDevOwner.Current);
        Assert.True(a.IsStarted);
        Assert.True(a.GetLink().IsUp);
        Assert.Equal(0, a.GetStats().RxPackets);
        Assert.NotEmpty(a.GetXStats());
        a.ResetStats();
        Assert.Equal(4, a.Info.MaxRxQueues);

        // The data path is not owned: bursts work from anywhere.
        a.Rx(0).Inject(TestPools.Alloc(pool, 2, 60));
        var burst = new Mbuf[4];
        Assert.Equal(2, a.RxBurst(0, burst));
        Mbuf.FreeBulk(burst.AsSpan(0, 2));
    }

    [Fact]
    public void The_owner_scope_belongs_to_the_calling_thread_and_nests()
    {
        using var rt = new HyperlaneRuntime();
        var (a, _) = TwoPorts(rt);
        var owner = new EthDevOwner("net_failsafe0");
        var other = new EthDevOwner("net_vdev_netvsc0");
        rt.Ports.Claim(a, owner);

        using (owner.Enter())
        {
            Exception? fromOtherThread = null;
            var t = new Thread(() => fromOtherThread = Record.Exception(a.EnablePromiscuous));
            t.Start();
            t.Join();
            Assert.IsType<EthDevException>(fromOtherThread);

            using (other.Enter())
            {
                Assert.Same(other, EthDevOwner.Current);
                Assert.Throws<EthDevException>(a.EnablePromiscuous);
            }

            Assert.Same(owner, EthDevOwner.Current);
            a.EnablePromiscuous();
        }

        Assert.Null(EthDevOwner.Current);
    }

    [Fact]
    public void A_second_owner_cannot_claim_and_unclaim_gives_the_port_back()
    {
        using var rt = new HyperlaneRuntime();
        var (a, b) = TwoPorts(rt);
        var owner = new EthDevOwner("net_failsafe0");
        var thief = new EthDevOwner("net_failsafe1");
        rt.Ports.Claim(a, owner);
        rt.Ports.Claim(a, owner); // same owner again: fine

        var claim = PortAssert.Fails<EthDevException>(a, "claim", Errno.EBUSY, () => rt.Ports.Claim(a, thief));
        Assert.Contains("already owned by net_failsafe0", claim.Message, StringComparison.Ordinal);
        PortAssert.Fails<EthDevException>(a, "unclaim", Errno.EPERM, () => rt.Ports.Unclaim(a, thief), "not owned by net_failsafe1");
        Assert.Same(owner, a.Owner);

        rt.Ports.Unclaim(a, owner);

        Assert.Null(a.Owner);
        Assert.Equal([a, b], rt.Ports.Ports);
        Assert.Empty(rt.Ports.OwnedBy(owner));
        a.Configure(1, 1);
        rt.Ports.Claim(a, thief);
        Assert.Equal([a], rt.Ports.OwnedBy(thief));
    }

    [Fact]
    public void Disposing_the_runtime_closes_owned_ports_through_their_owner()
    {
        using var rt = new HyperlaneRuntime();
        var (a, b) = TwoPorts(rt);
        rt.Ports.Claim(a, new EthDevOwner("net_failsafe0"));

        rt.Dispose();

        Assert.Equal(EthDevState.Closed, a.State);
        Assert.Equal(EthDevState.Closed, b.State);
        Assert.Equal(1, a.CloseCalls);
        Assert.Empty(rt.Ports.All);
        rt.Dispose();
    }
}
