using Hyperlane.Cli.TestPmd;
using Hyperlane.Packets;

namespace Hyperlane.Cli.Tests;

public class TestPmdCommandLineTests
{
    private static TestPmdOptions Parse(string line) =>
        TestPmdCommandLine.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void Issue_example_parses_into_every_field()
    {
        var o = Parse("-l 0-1 --vdev net_null0 --vdev net_null1 -- --forward-mode=io --auto-start --stats-period 1");
        Assert.Equal([0, 1], o.Lcores);
        Assert.Equal(["net_null0", "net_null1"], o.Vdevs);
        Assert.Equal(ForwardMode.Io, o.ForwardMode);
        Assert.True(o.AutoStart);
        Assert.Equal(1, o.StatsPeriod);
        Assert.False(o.BuiltInDefault);
    }

    [Fact]
    public void No_arguments_is_the_built_in_default()
    {
        var o = TestPmdCommandLine.Parse([]);
        Assert.True(o.BuiltInDefault);
        Assert.Equal(1, o.StatsPeriod);
        Assert.Empty(o.Vdevs);
    }

    [Fact]
    public void Defaults_match_testpmd()
    {
        var o = Parse("--vdev net_null0");
        Assert.Equal(1, o.NbCores);
        Assert.Equal(1, o.RxQueues);
        Assert.Equal(1, o.TxQueues);
        Assert.Equal(512, o.RxDescriptors);
        Assert.Equal(512, o.TxDescriptors);
        Assert.Equal(32, o.Burst);
        Assert.Equal([64], o.TxPackets);
        Assert.Equal(PortTopology.Paired, o.PortTopology);
        Assert.Equal(ForwardMode.Io, o.ForwardMode);
    }

    [Fact]
    public void All_application_options_parse()
    {
        var o = Parse("-l 0,1 --vdev net_null0 -- --forward-mode macswap --nb-cores 1 --rxq 2 --txq 2 --rxd 256 --txd 128 --burst 16 "
            + "--txpkts=64,64 --mbuf-size 4096 --total-num-mbufs 20000 --port-topology chained --eth-peer 0,02:00:00:00:00:aa --tx-first "
            + "--stats-period 2 -i --summary-json /tmp/x.json");
        Assert.Equal(ForwardMode.MacSwap, o.ForwardMode);
        Assert.Equal(2, o.RxQueues);
        Assert.Equal(2, o.TxQueues);
        Assert.Equal(256, o.RxDescriptors);
        Assert.Equal(128, o.TxDescriptors);
        Assert.Equal(16, o.Burst);
        Assert.Equal([64, 64], o.TxPackets);
        Assert.Equal(4096, o.MbufSize);
        Assert.Equal(20000, o.TotalNumMbufs);
        Assert.Equal(PortTopology.Chained, o.PortTopology);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:AA"), o.EthPeers[0]);
        Assert.True(o.TxFirst);
        Assert.True(o.Interactive);
        Assert.Equal(2, o.StatsPeriod);
        Assert.Equal("/tmp/x.json", o.SummaryJson);
    }

    [Fact]
    public void Dpdk_only_eal_flags_are_accepted_and_remembered()
    {
        var o = Parse("-l 0-1 --main-lcore 0 --no-pci --in-memory --file-prefix dpb_null --no-huge -m 256 --vdev net_null0 -- --duration 2");
        Assert.Equal(0, o.MainLcore);
        Assert.Equal(["--no-pci", "--in-memory", "--file-prefix dpb_null", "--no-huge", "-m 256"], o.IgnoredEalFlags);
        Assert.Equal(2.0, o.Duration);
    }

    [Theory]
    [InlineData("-- --forward-mode=foo", "--forward-mode: unknown mode 'foo' (valid: io, mac, macswap, rxonly, txonly, flowgen, icmpecho)")]
    [InlineData("-- --port-topology ring", "--port-topology: unknown topology 'ring'")]
    [InlineData("-- --burst 0", "--burst: 0 out of range 1..512")]
    [InlineData("-- --rxq 0", "--rxq: 0 out of range")]
    [InlineData("-- --rxq 2 --txq 1", "--txq 1 is less than --rxq 2")]
    [InlineData("-- --txpkts=10", "total packet length 10 out of range 42..9216")]
    [InlineData("-- --txpkts=64,x", "--txpkts: 'x' is not a segment length")]
    [InlineData("-- --txpkts=3000 --mbuf-size 2176", "does not fit an mbuf")]
    [InlineData("-- --eth-peer 0,zz", "--eth-peer: '0,zz' is not <port>,<MAC>")]
    [InlineData("-- --duration -1", "--duration")]
    [InlineData("-- --bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("-- --burst abc", "--burst")]
    [InlineData("-- -i --duration 3", "--duration cannot be combined with -i")]
    [InlineData("-l 3-1", "-l: core list '3-1': range 3-1 runs backwards")]
    [InlineData("-l x", "-l: core list 'x': 'x' is not a core number")]
    [InlineData("--file-prefix", "EAL option --file-prefix needs a value")]
    [InlineData("--bogus-eal", "EAL options:")]
    public void Bad_options_give_one_clear_line(string line, string expected)
    {
        var ex = Assert.Throws<CommandLineException>(() => Parse("--vdev net_null0 " + line));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Help_lists_both_halves()
    {
        string help = TestPmdCommandLine.Help();
        Assert.Contains("--vdev", help, StringComparison.Ordinal);
        Assert.Contains("--forward-mode", help, StringComparison.Ordinal);
        Assert.Contains("--summary-json", help, StringComparison.Ordinal);
        Assert.Contains("--no-pci", help, StringComparison.Ordinal);
    }
}
