using System.Text.Json;

namespace Hyperlane.Cli.Tests;

/// <summary>The hyperlane command end to end, in process: exit codes, error lines, the JSON summary.</summary>
[Collection(nameof(ForwardingCollection))]
public class CliAppTests
{
    private static (int Rc, string Out, string Err) Run(string line, string input = "")
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int rc = CliApp.Run(line.Split(' ', StringSplitOptions.RemoveEmptyEntries), new StringReader(input), o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("testpmd --vdev net_null0,sizee=1", "--vdev net_null0: unknown key 'sizee' (valid keys: copy, no-rx, size)")]
    [InlineData("testpmd --vdev net_null0,size=abc", "key 'size' = 'abc' is not an integer")]
    [InlineData("testpmd --vdev net_null0,size=0", "key 'size' = '0' is out of range 1..65535")]
    [InlineData("testpmd --vdev net_ring0,nodeaction=r:0:CREATE", "not supported by Hyperlane")]
    [InlineData("testpmd --vdev net_null0,dev(x", "unbalanced parentheses")]
    [InlineData("testpmd --vdev net_null0 -- --forward-mode=bad", "unknown mode 'bad'")]
    [InlineData("testpmd --vdev net_null0 -- --nb-cores 9", "--nb-cores 9")]
    [InlineData("frobnicate", "unknown command 'frobnicate'")]
    public void Malformed_input_gives_one_error_line_and_exit_2(string line, string expected)
    {
        var (rc, _, err) = Run(line);
        Assert.Equal(CliApp.ExitUsage, rc);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Exception", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_driver_fails_with_one_line()
    {
        var (rc, _, err) = Run("testpmd --vdev bogus0");
        Assert.NotEqual(0, rc);
        Assert.Contains("bogus0: no driver for this device name (known drivers: net_af_packet, net_failsafe, net_null, net_ring, net_tap, net_tun, net_vdev_netvsc, net_vhost, virtio_user)", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void No_device_is_an_error()
    {
        var (rc, _, err) = Run("testpmd -l 0-1 --no-pci");
        Assert.NotEqual(0, rc);
        Assert.Contains("No probed ethernet devices", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_io_with_duration_writes_the_summary()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hl-summary-{Guid.NewGuid():N}.json");
        try
        {
            var (rc, output, err) = Run($"testpmd --vdev net_null0 --vdev net_null1 -- --forward-mode=io --auto-start --duration 0.5 --summary-json {path}");
            Assert.True(rc == 0, err);
            Assert.Contains("Accumulated forward statistics for all ports", output, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            Assert.Equal("io", root.GetProperty("forwardMode").GetString());
            var ports = root.GetProperty("ports");
            Assert.Equal(2, ports.GetArrayLength());
            foreach (var p in ports.EnumerateArray())
            {
                Assert.True(p.GetProperty("rxPackets").GetInt64() > 0);
                Assert.Equal(p.GetProperty("rxPackets").GetInt64(), p.GetProperty("txPackets").GetInt64() + p.GetProperty("fwdDrops").GetInt64());
                Assert.Equal(64 * p.GetProperty("rxPackets").GetInt64(), p.GetProperty("rxBytes").GetInt64());
                Assert.True(p.GetProperty("rxMpps").GetDouble() > 0);
            }

            Assert.True(root.GetProperty("total").GetProperty("rxMpps").GetDouble() > 0);
            Assert.InRange(root.GetProperty("durationSeconds").GetDouble(), 0.4, 5);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Stats_period_prints_testpmd_blocks()
    {
        var (rc, output, err) = Run("testpmd --vdev net_null0 --vdev net_null1 -- --stats-period 1 --duration 1.2");
        Assert.True(rc == 0, err);
        Assert.Contains("NIC statistics for port 0", output, StringComparison.Ordinal);
        Assert.Contains("NIC statistics for port 1", output, StringComparison.Ordinal);
        Assert.Contains("Rx-pps:", output, StringComparison.Ordinal);
        Assert.Contains("RX-nombuf:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Built_in_default_forwards_on_a_ring_pair()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hl-default-{Guid.NewGuid():N}.json");
        try
        {
            // The no-argument default, bounded for the test (the real one runs until Ctrl-C).
            var o = Cli.TestPmd.TestPmdCommandLine.Parse([]) with { Duration = 0.5, SummaryJson = path };
            using var output = new StringWriter();
            using var factory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
            using (var session = new Cli.TestPmd.TestPmdSession(o, output, factory))
            {
                session.Setup();
                var results = session.RunUntil(CancellationToken.None);
                session.WriteSummary(path, results);
                Assert.Equal(["net_ring0", "net_ring1"], results.Select(r => r.Name));
                Assert.True(results[0].TxPackets > 0, "port 0 generates");
                Assert.True(results[1].RxPackets > 0, "port 1 receives");
                Assert.True(results[1].TxPackets > 0, "port 1 sends back");
                Assert.True(results[0].RxPackets > 0, "port 0 gets them back");
            }

            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal("txonly+io", doc.RootElement.GetProperty("forwardMode").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Interactive_prompt_runs_the_common_commands()
    {
        var (rc, output, err) = Run(
            "testpmd --vdev net_null0 --vdev net_null1 -- -i",
            "show port info all\nset fwd macswap\nstart\nshow port stats all\nshow port xstats all\nstop\nclear port stats all\nset fwd nonsense\nbogus\nquit\n");
        Assert.True(rc == 0, err);
        Assert.Contains("Infos for port 0", output, StringComparison.Ordinal);
        Assert.Contains("Driver name: net_null", output, StringComparison.Ordinal);
        Assert.Contains("Set macswap packet forwarding mode", output, StringComparison.Ordinal);
        Assert.Contains("macswap packet forwarding - ports=2", output, StringComparison.Ordinal);
        Assert.Contains("rx_good_packets:", output, StringComparison.Ordinal);
        Assert.Contains("Forward statistics for port 1", output, StringComparison.Ordinal);
        Assert.Contains("NIC statistics for port 0 cleared", output, StringComparison.Ordinal);
        Assert.Contains("unknown forwarding mode 'nonsense'", output, StringComparison.Ordinal);
        Assert.Contains("unknown command 'bogus'", output, StringComparison.Ordinal);
        Assert.Contains("Bye...", output, StringComparison.Ordinal);
    }

    [Fact]
    public void End_of_input_quits_the_prompt()
    {
        var (rc, output, _) = Run("testpmd --vdev net_null0 -- -i --auto-start", string.Empty);
        Assert.Equal(0, rc);
        Assert.Contains("Bye...", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_exits_zero()
    {
        var (rc, output, _) = Run("testpmd --help");
        Assert.Equal(0, rc);
        Assert.Contains("usage: hyperlane testpmd", output, StringComparison.Ordinal);
    }
}
