using Hyperlane.Core.Ports;
using Hyperlane.Linux;

namespace Hyperlane.Net.Failsafe.Tests;

/// <summary>Where sub-device devargs come from: exec() (a command's first line) and fd() (the last complete line written).</summary>
public class UnitSourceTests
{

    // ---------------- exec() ----------------

    [Fact]
    public void Exec_splits_its_command_at_commas_and_whitespace_without_a_shell()
    {
        using var rt = Unit.Runtime(out var driver);
        var fs = Unit.Probe(rt, $"net_failsafe0,exec({Unit.Echo},net_utest5),exec({Unit.Echo} net_utest6),exec({Unit.Echo},net_utest7;,echo),{Unit.NoPoll}");
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(0));
        Assert.Equal("net_utest5", fs.GetSubDevicePort(0)!.Name);
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(1));
        Assert.Equal("net_utest6", fs.GetSubDevicePort(1)!.Name);

        // No shell: ';' is an argument like any other, and "net_utest7; echo" is not devargs.
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(2));
        Assert.Contains("net_utest7;", fs.GetSubDeviceError(2)!, StringComparison.Ordinal);
        Assert.Equal(1, fs.SourceErrors);
        Assert.Equal(0, driver.CreatedCount("net_utest7"));
    }

    [Fact]
    public void Exec_is_run_again_each_round_until_it_gives_valid_devargs_and_only_its_first_line_counts()
    {
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out var driver);
        string file = dir.File("devargs");
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),exec({Unit.Cat},{file}),{Unit.NoPoll}");
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
        Assert.Contains("exited with status", fs.GetSubDeviceError(1)!, StringComparison.Ordinal); // cat: no such file
        Assert.Equal(1, fs.SourceErrors);

        File.WriteAllText(file, "net_bogus0\n");
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
        Assert.Contains("no driver for device 'net_bogus0'", fs.GetSubDeviceError(1)!, StringComparison.Ordinal);
        Assert.Equal(2, fs.SourceErrors);

        File.WriteAllText(file, string.Empty);
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
        Assert.Equal(2, fs.SourceErrors); // printing nothing means "no sub-device yet", not an error

        File.WriteAllText(file, "  net_utest5  \nnet_utest6\n");
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(1));
        Assert.Equal("net_utest5", fs.GetSubDevicePort(1)!.Name);
        Assert.Null(fs.GetSubDeviceError(1));
        Assert.Equal(2, fs.SourceErrors);

        // Present: the command is not run again.
        File.WriteAllText(file, "net_utest6\n");
        fs.RunUpkeep();
        Assert.Equal("net_utest5", fs.GetSubDevicePort(1)!.Name);
        Assert.Equal(0, driver.CreatedCount("net_utest6"));
    }

    /// <summary>
    /// Devargs from exec()/fd() naming a port that another slot of the same failsafe port already holds are
    /// refused (dev() refuses the same sub-device twice at probe); the port is never configured or counted twice.
    /// </summary>
    [Fact]
    public void Exec_naming_a_port_another_slot_already_holds_is_refused()
    {
        using var pool = Unit.Pool("exec_dup");
        using var rt = Unit.Runtime(out _);
        var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_utest0),exec({Unit.Echo},net_utest0),{Unit.NoPoll}");
        Assert.True(fs.GetSubDevicePort(1) is null, "sub-device 1 holds net_utest0, the port of sub-device 0");
        Assert.Contains("net_utest0", fs.GetSubDeviceError(1), StringComparison.Ordinal);
        Unit.Start(fs, pool);
        var packets = Unit.Alloc(pool, 10, 0);
        Assert.Equal(10, fs.TxBurst(0, packets));
        Assert.Equal(10, fs.GetStats().TxPackets); // not counted twice
    }

    [Fact]
    public void Exec_devargs_that_fail_to_probe_are_read_again_next_round()
    {
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out _);
        string file = dir.File("devargs");
        File.WriteAllText(file, "net_utest5,fail=1\n");
        var fs = Unit.Probe(rt, $"net_failsafe0,exec({Unit.Cat},{file}),{Unit.NoPoll}");
        Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(0));
        Assert.Equal(1, fs.ProbeFailures);
        Assert.Contains("net_utest5,fail=1", fs.GetSubDeviceError(0)!, StringComparison.Ordinal);

        File.WriteAllText(file, "net_utest5\n");
        fs.RunUpkeep();
        Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(0));
        Assert.Equal(1, fs.ProbeFailures);
    }

    [Fact]
    public void Exec_is_run_again_after_removal_and_its_new_devargs_are_used()
    {
        using var pool = Unit.Pool("exec_again");
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out var driver);
        string file = dir.File("devargs");
        File.WriteAllText(file, "net_utest5\n");
        var fs = Unit.Probe(rt, $"net_failsafe0,exec({Unit.Cat},{file}),dev(net_null1),{Unit.NoPoll}");
        Unit.Start(fs, pool);
        Assert.Equal(0, fs.TxSubDeviceIndex);
        var old = driver.Latest("net_utest5");

        File.WriteAllText(file, "net_utest6\n");
        old.RaiseRemoval("replaced");
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Unit.WaitUntil(() => fs.GetSubDevicePort(0)?.Name == "net_utest6" && fs.GetSubDeviceState(0) == SubDeviceState.Started, "sub-device 0 to come back as net_utest6");
        Assert.Equal(EthDevState.Closed, old.State);
        Assert.Null(rt.Vdev.Find("net_utest5"));
        Assert.Equal(0, fs.TxSubDeviceIndex);
    }

    [Fact]
    public void The_upkeep_alarm_brings_an_exec_sub_device_in_every_hotplug_poll()
    {
        using var pool = Unit.Pool("alarm");
        using var dir = new UnitTempDir();
        using var rt = Unit.Runtime(out _);
        string file = dir.File("devargs");
        var fs = Unit.Probe(rt, $"net_failsafe0,exec({Unit.Cat},{file}),dev(net_null1),hotplug_poll=20");
        Unit.Start(fs, pool);
        Assert.Equal(1, fs.TxSubDeviceIndex);
        Unit.WaitUntil(() => fs.SourceErrors >= 2, "the alarm to run exec() again");

        File.WriteAllText(file, "net_null0\n");
        Unit.WaitUntil(() => fs.GetSubDeviceState(0) == SubDeviceState.Started, "the alarm to bring sub-device 0 in");
        Unit.WaitUntil(() => fs.TxSubDeviceIndex == 0, "Tx to move to the preferred sub-device");
    }

    [Fact]
    public void Exec_reports_a_command_that_cannot_run_fails_or_prints_nothing()
    {
        using var rt = Unit.Runtime(out _);
        Assert.Null(new ExecSource("/nonexistent/prog").TryRead(rt.Drivers, "net_failsafe0", out string? error));
        Assert.Contains("cannot run '/nonexistent/prog'", error, StringComparison.Ordinal);

        Assert.Null(new ExecSource($"{Unit.Cat},/nonexistent/file").TryRead(rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("exited with status 1", error, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/file", error, StringComparison.Ordinal); // cat's message

        Assert.Null(new ExecSource(Unit.Cat + ",/dev/null").TryRead(rt.Drivers, "net_failsafe0", out error));
        Assert.Null(error); // printed nothing: no sub-device yet, not an error

        Assert.Equal("net_null3", new ExecSource($"{Unit.Echo},net_null3").TryRead(rt.Drivers, "net_failsafe0", out error));
        Assert.Null(error);

        Assert.Null(new ExecSource($"{Unit.Echo},net_failsafe0").TryRead(rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("failsafe port itself", error, StringComparison.Ordinal);
        Assert.False(new ExecSource("x").IsFixed);
    }

    // ---------------- fd() ----------------

    [Fact]
    public void Fd_is_duplicated_at_probe_and_made_non_blocking()
    {
        using var rt = Unit.Runtime(out _);
        var (read, write) = Unit.Pipe(); // blocking
        using (write)
        {
            FailsafeEthDev fs;
            using (read)
            {
                fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),fd({read.Fd}),{Unit.NoPoll}");
            }

            // Our descriptor is closed: the failsafe port reads its own copy, and an empty pipe does not block it.
            var round = new Thread(fs.RunUpkeep) { IsBackground = true, Name = "fs-unit-upkeep" };
            round.Start();
            Assert.True(round.Join(Unit.Timeout), "an upkeep round blocked reading an empty fd()");
            Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
            Assert.Null(fs.GetSubDeviceError(1)); // nothing written yet is not an error
            Assert.Equal(0, fs.SourceErrors);

            Unit.Write(write, "net_utest5\n");
            fs.RunUpkeep();
            Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(1));
            Assert.Equal("net_utest5", fs.GetSubDevicePort(1)!.Name);

            // Closing the port closes its copy: the pipe has no reader left.
            // (Polled: a process another test forks holds copies of every descriptor until its exec.)
            rt.Dispose();
            Unit.WaitUntil(() => Syscalls.Write(write.Fd, "x"u8).Error == Errno.EPIPE, "the failsafe port to close its copy of the descriptor");
        }
    }

    [Fact]
    public void Fd_takes_the_last_complete_line_and_a_partial_line_waits_for_its_newline()
    {
        using var pool = Unit.Pool("fd_lines");
        using var rt = Unit.Runtime(out var driver);
        var (read, write) = Unit.Pipe();
        using (read)
        using (write)
        {
            var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),fd({read.Fd}),{Unit.NoPoll}");
            Unit.Start(fs, pool);

            Unit.Write(write, "net_utest5");
            fs.RunUpkeep();
            Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1)); // no newline yet

            Unit.Write(write, "\nnet_utest6\r\n\n   \nnet_utest7\nnet_ut");
            fs.RunUpkeep();
            Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
            Assert.Equal("net_utest7", fs.GetSubDevicePort(1)!.Name); // the last complete line
            Assert.Equal(0, driver.CreatedCount("net_utest5") + driver.CreatedCount("net_utest6"));

            // The partial "net_ut" is kept: once removed, its end completes it.
            var seven = driver.Latest("net_utest7");
            seven.RaiseRemoval("gone");
            Unit.WaitUntil(() => seven.State == EthDevState.Closed, "net_utest7 to be torn down");
            Unit.Barrier(rt);
            Unit.Write(write, "est8\n");
            fs.RunUpkeep();
            Assert.Equal("net_utest8", fs.GetSubDevicePort(1)!.Name);
            Assert.Equal(SubDeviceState.Started, fs.GetSubDeviceState(1));
        }
    }

    [Fact]
    public void Fd_discards_lines_longer_than_4096_characters_and_bad_devargs()
    {
        using var rt = Unit.Runtime(out _);
        var (read, write) = Unit.Pipe();
        using (read)
        using (write)
        {
            var fs = Unit.Probe(rt, $"net_failsafe0,dev(net_null0),fd({read.Fd}),{Unit.NoPoll}");
            long errors = fs.SourceErrors;

            Unit.Write(write, new string('x', 5000) + "\n");
            fs.RunUpkeep();
            Assert.Equal(SubDeviceState.Undefined, fs.GetSubDeviceState(1));
            Assert.Contains("longer than 4096", fs.GetSubDeviceError(1)!, StringComparison.Ordinal);
            Assert.Equal(errors + 1, fs.SourceErrors);

            Unit.Write(write, "net_null1,((\n");
            fs.RunUpkeep();
            Assert.Contains("malformed", fs.GetSubDeviceError(1)!, StringComparison.Ordinal);
            Assert.Equal(errors + 2, fs.SourceErrors);

            // A too-long line does not hide the complete line before it.
            Unit.Write(write, "net_null1\n" + new string('y', 4097) + "\n");
            fs.RunUpkeep();
            Assert.Equal(SubDeviceState.Probed, fs.GetSubDeviceState(1));
            Assert.Equal("net_null1", fs.GetSubDevicePort(1)!.Name);
            Assert.Equal((long)SubDeviceState.Probed, Unit.XStat(fs, "fs_sub1_state"));
        }
    }

    [Fact]
    public void Fd_source_line_length_limit_is_exactly_4096()
    {
        using var rt = Unit.Runtime(out _);
        var (read, write) = Unit.Pipe();
        using (read)
        using (write)
        {
            using var source = new FdSource(read.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Null(source.OpenError);
            Assert.False(source.IsFixed);

            const string prefix = "net_null1,x=";
            string exact = prefix + new string('a', SubDeviceSource.MaxLineLength - prefix.Length);
            Assert.Equal(4096, exact.Length);
            Unit.Write(write, exact + "\n");
            Assert.Equal(exact, source.TryRead(rt.Drivers, "net_failsafe0", out string? error)); // kept (the probe would then refuse x=)
            Assert.Null(error);
            Assert.Equal(0, source.DiscardedLines);

            Unit.Write(write, exact + "a\n");
            Assert.Null(source.TryRead(rt.Drivers, "net_failsafe0", out error));
            Assert.Contains("longer than 4096", error, StringComparison.Ordinal);
            Assert.Equal(1, source.DiscardedLines);

            // Split over two reads, a long line is still discarded up to its newline, and what follows is read.
            Unit.Write(write, new string('b', 3000));
            Assert.Null(source.TryRead(rt.Drivers, "net_failsafe0", out _));
            Unit.Write(write, new string('b', 3000) + "\nnet_null2\n");
            Assert.Equal("net_null2", source.TryRead(rt.Drivers, "net_failsafe0", out error));
            Assert.Equal(2, source.DiscardedLines);

            Unit.Write(write, "net_bogus9\n");
            Assert.Null(source.TryRead(rt.Drivers, "net_failsafe0", out error));
            Assert.Contains("no driver for device 'net_bogus9'", error, StringComparison.Ordinal);
            Assert.Equal(3, source.DiscardedLines);
        }
    }

    [Fact]
    public void Fd_source_of_a_bad_descriptor_says_why()
    {
        using var rt = Unit.Runtime(out _);
        using var notNumber = new FdSource("abc");
        Assert.Contains("not a file descriptor number", notNumber.OpenError, StringComparison.Ordinal);
        using var closed = new FdSource("1000000");
        Assert.Contains("not an open file descriptor", closed.OpenError, StringComparison.Ordinal);
        Assert.Null(closed.TryRead(rt.Drivers, "net_failsafe0", out string? error));
        Assert.Equal(closed.OpenError, error);
    }

    // ---------------- checks of outside text ----------------

    [Fact]
    public void Devargs_from_outside_are_checked_before_they_are_probed()
    {
        using var rt = Unit.Runtime(out _);
        Assert.Equal("net_null1,size=128", SubDeviceSource.Check("  net_null1,size=128 ", rt.Drivers, "net_failsafe0", out string? error));
        Assert.Null(error);

        Assert.Null(SubDeviceSource.Check(new string('n', 4097), rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("4097 characters is longer than 4096", error, StringComparison.Ordinal);

        Assert.Null(SubDeviceSource.Check("net_null1,(", rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("malformed", error, StringComparison.Ordinal);

        Assert.Null(SubDeviceSource.Check("net_bogus1", rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("no driver for device 'net_bogus1'", error, StringComparison.Ordinal);

        Assert.Null(SubDeviceSource.Check("net_failsafe0,dev(net_null0)", rt.Drivers, "net_failsafe0", out error));
        Assert.Contains("failsafe port itself", error, StringComparison.Ordinal);

        Assert.Null(SubDeviceSource.Check(string.Empty, rt.Drivers, "net_failsafe0", out error));
        Assert.NotNull(error);
    }
}
