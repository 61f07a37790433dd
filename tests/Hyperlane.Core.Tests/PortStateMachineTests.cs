using Hyperlane.Core.Ports;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Core.Tests;

public class PortStateMachineTests
{
    private static TestEthDev Register(HyperlaneRuntime rt, string name = "test0")
    {
        var dev = new TestEthDev(name);
        rt.Ports.Register(dev);
        return dev;
    }

    private static void SetUp(TestEthDev dev, Mempool pool, int rx = 1, int tx = 1)
    {
        dev.Configure(rx, tx);
        for (int i = 0; i < rx; i++)
        {
            dev.SetupRxQueue(i, 64, pool);
        }

        for (int i = 0; i < tx; i++)
        {
            dev.SetupTxQueue(i, 64);
        }
    }

    [Fact]
    public void A_new_port_is_unconfigured_with_its_id_and_name()
    {
        using var rt = new HyperlaneRuntime();
        Register(rt, "first");
        var dev = Register(rt, "second");

        Assert.Equal(1, dev.PortId);
        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.False(dev.IsStarted);
        Assert.Null(dev.Configuration);
        Assert.Equal("port 1 (second, net_test)", dev.ToString());
        Assert.True(dev.MacAddress.IsUnicast);
        Assert.True(dev.MacAddress.IsLocallyAdministered);
    }

    [Fact]
    public void Queue_setup_before_configure_says_to_configure_first()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        PortAssert.WrongState(dev, "Rx queue setup", EthDevState.Unconfigured, () => dev.SetupRxQueue(0, 64, pool), "configure the port first");
        PortAssert.WrongState(dev, "Tx queue setup", EthDevState.Unconfigured, () => dev.SetupTxQueue(0, 64), "configure the port first");
        Assert.Equal(EthDevState.Unconfigured, dev.State);
    }

    [Fact]
    public void Start_before_configure_says_what_to_do()
    {
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        PortAssert.WrongState(dev, "start", EthDevState.Unconfigured, dev.Start, "configure the port and set up its queues first");
        Assert.Equal(0, dev.StartCalls);
    }

    [Fact]
    public void Start_before_every_queue_is_set_up_names_the_missing_queue()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        dev.Configure(2, 2);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.SetupTxQueue(1, 64);
        PortAssert.Fails<EthDevException>(dev, "start", Errno.EINVAL, dev.Start, "Rx queue 1 is not set up");

        dev.SetupRxQueue(1, 64, pool);
        dev.Configure(1, 3);
        dev.SetupRxQueue(0, 64, pool);
        dev.SetupTxQueue(0, 64);
        dev.SetupTxQueue(2, 64);
        PortAssert.Fails<EthDevException>(dev, "start", Errno.EINVAL, dev.Start, "Tx queue 1 is not set up");

        Assert.Equal(EthDevState.Configured, dev.State);
        Assert.Equal(0, dev.StartCalls);
        dev.SetupTxQueue(1, 64);
        dev.Start();
        Assert.True(dev.IsStarted);
    }

    [Fact]
    public void Configure_and_queue_setup_while_started_say_to_stop_first()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        SetUp(dev, pool);
        dev.Start();

        PortAssert.WrongState(dev, "configure", EthDevState.Started, () => dev.Configure(2, 2), "stop the port first");
        PortAssert.WrongState(dev, "Rx queue setup", EthDevState.Started, () => dev.SetupRxQueue(0, 64, pool), "stop it");
        PortAssert.WrongState(dev, "Tx queue setup", EthDevState.Started, () => dev.SetupTxQueue(0, 64), "stop it");

        Assert.True(dev.IsStarted);
        Assert.Equal(1, dev.RxQueueCount);
        Assert.Equal(1, dev.ConfigureCalls);
    }

    [Fact]
    public void Start_twice_and_stop_twice_do_nothing_more()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        SetUp(dev, pool);

        dev.Stop(); // not started: nothing
        Assert.Equal(0, dev.StopCalls);
        dev.Start();
        dev.Start();
        Assert.Equal(1, dev.StartCalls);
        Assert.Equal(EthDevState.Started, dev.State);
        dev.Stop();
        dev.Stop();
        Assert.Equal(1, dev.StopCalls);
        Assert.Equal(EthDevState.Configured, dev.State);
    }

    [Fact]
    public void Stop_then_reconfigure_with_other_queue_counts_works()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        SetUp(dev, pool);
        dev.Start();
        var oldRx = dev.Rx(0);
        var oldTx = dev.Tx(0);
        dev.Stop();

        SetUp(dev, pool, rx: 3, tx: 2);
        Assert.True(oldRx.Released);
        Assert.True(oldTx.Released);
        dev.Start();

        Assert.Equal(3, dev.RxQueueCount);
        Assert.Equal(2, dev.TxQueueCount);
        var packets = TestPools.Alloc(pool, 4, 60);
        Assert.Equal(4, dev.Rx(2).Inject(packets));
        var burst = new Mbuf[8];
        Assert.Equal(0, dev.RxBurst(0, burst));
        Assert.Equal(4, dev.RxBurst(2, burst));
        Assert.Equal(4, dev.TxBurst(1, burst.AsSpan(0, 4)));
        Assert.Equal(4, dev.GetStats().RxPackets);
        Assert.Equal(4, dev.GetStats().TxQueues[1].Packets);
    }

    [Fact]
    public void Reset_returns_to_unconfigured_and_releases_the_queues()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        SetUp(dev, pool);
        dev.Start();
        var rx = dev.Rx(0);
        rx.Inject(TestPools.Alloc(pool, 3, 60));

        dev.Reset();

        Assert.Equal(EthDevState.Unconfigured, dev.State);
        Assert.Null(dev.Configuration);
        Assert.Equal(0, dev.RxQueueCount);
        Assert.Equal(0, dev.TxQueueCount);
        Assert.Equal(1, dev.StopCalls);
        Assert.Equal(1, dev.ResetCalls);
        Assert.True(rx.Released);
        Assert.True(pool.Audit().IsFull);
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        PortAssert.WrongState(dev, "Rx queue setup", EthDevState.Unconfigured, () => dev.SetupRxQueue(0, 64, pool));

        SetUp(dev, pool, rx: 2, tx: 1);
        dev.Start();
        Assert.True(dev.IsStarted);
    }

    [Fact]
    public void Everything_after_close_names_the_closed_port()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);
        SetUp(dev, pool);
        dev.Start();
        dev.Close();

        Assert.Equal(EthDevState.Closed, dev.State);
        Assert.Equal(1, dev.StopCalls);
        Assert.Equal(1, dev.CloseCalls);
        var cases = new (string Op, Action Action)[]
        {
            ("configure", () => dev.Configure(1, 1)),
            ("Rx queue setup", () => dev.SetupRxQueue(0, 64, pool)),
            ("Tx queue setup", () => dev.SetupTxQueue(0, 64)),
            ("start", dev.Start),
            ("stop", dev.Stop),
            ("reset", dev.Reset),
            ("link get", () => dev.GetLink()),
            ("link up", dev.SetLinkUp),
            ("promiscuous enable", dev.EnablePromiscuous),
            ("all-multicast disable", dev.DisableAllMulticast),
            ("MAC address set", () => dev.SetMacAddress(MacAddress.Parse("02:00:00:00:00:09"))),
            ("MAC address add", () => dev.AddMacAddress(MacAddress.Parse("02:00:00:00:00:0a"))),
            ("multicast list set", () => dev.SetMulticastList([])),
            ("MTU set", () => dev.SetMtu(1500)),
            ("stats get", () => dev.GetStats()),
            ("stats get", () => dev.GetXStats()),
            ("stats reset", dev.ResetStats),
        };
        foreach (var (op, action) in cases)
        {
            PortAssert.WrongState(dev, op, EthDevState.Closed, action, "the port is closed");
        }

        dev.Close(); // closing twice does nothing
        Assert.Equal(1, dev.CloseCalls);
        Assert.Equal(0, dev.RxBurst(0, new Mbuf[4]));
        Assert.Equal(0, dev.TxBurst(0, ReadOnlySpan<Mbuf>.Empty));
        Assert.True(pool.Audit().IsFull);
    }

    [Fact]
    public void Closing_unregisters_the_port()
    {
        using var rt = new HyperlaneRuntime();
        var a = Register(rt, "a");
        var b = Register(rt, "b");

        a.Close();

        Assert.Equal([b], rt.Ports.All);
        Assert.False(rt.Ports.TryGet(0, out _));
        Assert.Null(rt.Ports.FindByName("a"));
        var c = Register(rt, "c");
        Assert.Equal(0, c.PortId); // the lowest free id is reused
        var ex = Assert.Throws<EthDevException>(() => rt.Ports.Get(7));
        Assert.Contains("no port 7 (valid: 0, 1)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.ENODEV, ex.Error);
    }

    [Fact]
    public void Registering_twice_or_a_taken_name_is_refused()
    {
        using var rt = new HyperlaneRuntime();
        var a = Register(rt, "a");

        Assert.Throws<InvalidOperationException>(() => rt.Ports.Register(a));
        var ex = Assert.Throws<EthDevException>(() => rt.Ports.Register(new TestEthDev("a")));
        Assert.Equal(Errno.EEXIST, ex.Error);
        Assert.Contains("a port with this name exists", ex.Message, StringComparison.Ordinal);
        Assert.Single(rt.Ports.All);
    }

    [Fact]
    public void Link_is_down_until_started()
    {
        using var pool = TestPools.Packets("sm");
        using var rt = new HyperlaneRuntime();
        var dev = Register(rt);

        Assert.False(dev.GetLink().IsUp);
        SetUp(dev, pool);
        Assert.False(dev.GetLink().IsUp);
        dev.Start();
        Assert.Equal(LinkStatus.Up(LinkSpeed.Gbps25), dev.GetLink());
        Assert.Equal("Link up at 25 Gbps FDX Autoneg", dev.WaitForLink(TimeSpan.FromMilliseconds(100)).ToString());
        dev.LinkUp = false;
        Assert.False(dev.WaitForLink(TimeSpan.FromMilliseconds(30)).IsUp);
        dev.Stop();
        Assert.Equal(LinkStatus.Down, dev.GetLink());
    }
}
