using Hyperlane.Cli.Doctor;
using Hyperlane.Cli.TestPmd;
using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Core.Runtime;
using Hyperlane.Linux;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Cli;

/// <summary>
/// The <c>hyperlane</c> command. Errors in what the user typed end with one line on stderr and exit
/// code 2; a device or system failure with one line and exit code 1; never a stack trace.
/// </summary>
public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.WriteLine("hyperlane: userspace poll-mode packet I/O for .NET");
            output.WriteLine();
            output.WriteLine("commands:");
            output.WriteLine("  testpmd [EAL options] -- [testpmd options]   forward packets between ports, as DPDK's testpmd");
            output.WriteLine("  doctor [--json]                              check this machine for Hyperlane (Azure/Hyper-V, tc, hugepages, ...)");
            output.WriteLine();
            output.WriteLine("'hyperlane testpmd --help' and 'hyperlane doctor --help' list the options.");
            return args.Length == 0 ? ExitUsage : ExitOk;
        }

        switch (args[0])
        {
            case "testpmd":
                return TestPmd(args[1..], input, output, error);
            case "doctor":
                return DoctorCommand.Run(args[1..], output, error);
            default:
                error.WriteLine($"hyperlane: error: unknown command '{args[0]}' (commands: testpmd, doctor)");
                return ExitUsage;
        }
    }

    private static int TestPmd(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        if (args.Length == 1 && args[0] is "-h" or "--help")
        {
            output.Write(TestPmdCommandLine.Help());
            return ExitOk;
        }

        TestPmdOptions options;
        LogLevel level;
        try
        {
            options = TestPmdCommandLine.Parse(args);
            level = LogLevels.Parse(options.LogLevels, LogLevel.Warning);
        }
        catch (CommandLineException ex)
        {
            error.WriteLine($"hyperlane testpmd: error: {ex.Message}");
            return ExitUsage;
        }

        if (options.IgnoredEalFlags.Count > 0)
        {
            error.WriteLine($"EAL: note: {string.Join(' ', options.IgnoredEalFlags)}: accepted for DPDK compatibility, no effect in Hyperlane");
        }

        using var loggerFactory = LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddFilter(l => l >= level));
        using var shutdown = new ShutdownSignal();
        TestPmdSession? session = null;
        try
        {
            session = new TestPmdSession(options, output, loggerFactory);
            session.Setup();
            IReadOnlyList<PortResult> results;
            if (options.Interactive)
            {
                if (options.AutoStart)
                {
                    session.StartForwarding(options.TxFirst);
                }

                new InteractivePrompt(session, input, output).Run(shutdown.Token);
                results = session.Results();
            }
            else
            {
                if (options.Duration is null)
                {
                    output.WriteLine(options.StatsPeriod > 0 ? "Press Ctrl-C to stop forwarding." : "Press Ctrl-C (or send SIGTERM) to stop forwarding.");
                }

                results = session.RunUntil(shutdown.Token);
            }

            if (shutdown.Received is { } sig)
            {
                output.WriteLine($"Signal {sig} received, stopped forwarding.");
            }

            if (options.SummaryJson is { } path)
            {
                session.WriteSummary(path, results);
            }

            output.Flush();
            return ExitOk;
        }
        catch (CommandLineException ex)
        {
            error.WriteLine($"hyperlane testpmd: error: {ex.Message}");
            return ExitUsage;
        }
        catch (DevargsException ex)
        {
            error.WriteLine($"hyperlane testpmd: error: --vdev {ex.Message}");
            return ExitUsage;
        }
        catch (Exception ex) when (ex is DeviceException or EthDevException or LinuxException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            error.WriteLine($"hyperlane testpmd: error: {CliText.WithoutParameterName(ex)}");
            return ExitFailure;
        }
        finally
        {
            session?.Dispose();
        }
    }
}
