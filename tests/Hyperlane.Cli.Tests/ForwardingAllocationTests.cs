using Hyperlane.Cli.TestPmd;
using Hyperlane.Net.Ring;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hyperlane.Cli.Tests;

/// <summary>
/// The data path allocates nothing: testpmd's own forwarding engine, on its own lcore, forwards 10^6
/// packets and its thread's allocated-bytes counter does not move.
/// </summary>
[Collection(nameof(ForwardingCollection))]
public class ForwardingAllocationTests
{
    private const long Packets = 1_000_000;

    [Theory]
    [InlineData(ForwardMode.Io)]
    [InlineData(ForwardMode.MacSwap)]
    public void Io_forwarding_between_a_ring_pair_allocates_zero_bytes(ForwardMode mode)
    {
        var (a, b) = RingDriver.LinkedPairDevargs("net_ring0", "net_ring1");
        var options = new TestPmdOptions { Vdevs = [a, b], ForwardMode = mode, TxFirst = true };
        using var session = new TestPmdSession(options, TextWriter.Null, NullLoggerFactory.Instance);
        session.Setup();
        Forward(session);
    }

    [Fact]
    public void Io_forwarding_between_null_ports_allocates_zero_bytes()
    {
        var options = new TestPmdOptions { Vdevs = ["net_null0", "net_null1"], ForwardMode = ForwardMode.Io };
        using var session = new TestPmdSession(options, TextWriter.Null, NullLoggerFactory.Instance);
        session.Setup();
        Forward(session);
    }

    [Fact]
    public void Io_forwarding_through_failsafe_ports_allocates_zero_bytes()
    {
        // Two failsafe ports, each over a ring port (preferred) and a null port: Rx drains both sub-devices
        // per burst (the fair split), Tx goes to the ring.
        var (a, b) = RingDriver.LinkedPairDevargs("net_ring0", "net_ring1");
        var options = new TestPmdOptions
        {
            Vdevs = [$"net_failsafe0,dev({a}),dev(net_null0)", $"net_failsafe1,dev({b}),dev(net_null1)"],
            ForwardMode = ForwardMode.Io,
            TxFirst = true,
        };
        using var session = new TestPmdSession(options, TextWriter.Null, NullLoggerFactory.Instance);
        session.Setup();
        Forward(session);
    }

    [Fact]
    public void Txonly_generation_allocates_zero_bytes()
    {
        var options = new TestPmdOptions { Vdevs = ["net_null0", "net_null1"], ForwardMode = ForwardMode.TxOnly };
        using var session = new TestPmdSession(options, TextWriter.Null, NullLoggerFactory.Instance);
        session.Setup();
        Forward(session);
    }

    private static void Forward(TestPmdSession session)
    {
        session.StartForwarding(txFirst: true);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (session.Results().Sum(r => Math.Max(r.RxPackets, r.TxPackets)) < Packets * 2 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        var results = session.StopForwarding();
        long moved = results.Sum(r => Math.Max(r.RxPackets, r.TxPackets));
        Assert.True(moved >= Packets, $"only {moved} packets moved in 60 s");
        var allocated = session.Engine.LastRunAllocatedBytes;
        Assert.NotEmpty(allocated);
        Assert.All(allocated, bytes => Assert.Equal(0, bytes));
    }
}
