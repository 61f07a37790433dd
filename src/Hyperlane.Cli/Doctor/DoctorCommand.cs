using System.CommandLine;

namespace Hyperlane.Cli.Doctor;

/// <summary>
/// <c>hyperlane doctor [--json]</c>: the report of what Hyperlane needs before running on Azure/Hyper-V.
/// Exit 0 whatever the checks say; 2 for a bad command line (one line on stderr); 1 only when doctor
/// itself failed. The hidden <c>--root DIR</c> (or HYPERLANE_HOST_ROOT) reads sysfs, procfs, /dev and
/// /lib/modules under DIR instead of "/", for tests and for looking at a copy of another machine's tree.
/// </summary>
public static class DoctorCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 1 && args[0] is "-h" or "--help")
        {
            output.Write(Help());
            return CliApp.ExitOk;
        }

        var json = new Option<bool>("--json") { Description = "print the report as JSON, for scripts" };
        var root = new Option<string>("--root") { Description = "read sysfs/procfs/dev under this directory instead of / (tests)", Hidden = true };
        var command = new Command("doctor") { json, root };
        ParseResult parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            error.WriteLine($"hyperlane doctor: error: {parsed.Errors[0].Message.TrimEnd('.')} (see hyperlane doctor --help)");
            return CliApp.ExitUsage;
        }

        string? rootDir = parsed.GetValue(root);
        if (rootDir is not null)
        {
            if (rootDir.Length == 0 || !Directory.Exists(rootDir))
            {
                error.WriteLine($"hyperlane doctor: error: --root '{rootDir}' is not a directory");
                return CliApp.ExitUsage;
            }

            rootDir = Path.GetFullPath(rootDir);
        }

        DoctorReport report;
        try
        {
            report = new DoctorRunner(rootDir).Run();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or Linux.LinuxException)
        {
            error.WriteLine($"hyperlane doctor: error: {CliText.WithoutParameterName(ex)}");
            return CliApp.ExitFailure;
        }

        if (parsed.GetValue(json))
        {
            output.WriteLine(DoctorJson.ToJson(report));
        }
        else
        {
            DoctorText.Write(report, output);
        }

        output.Flush();
        return CliApp.ExitOk;
    }

    public static string Help() =>
        """
        usage: hyperlane doctor [--json]

        Checks what Hyperlane needs before running on an Azure / Hyper-V VM, and works on any Linux machine:
        hypervisor (CPUID, /sys/bus/vmbus), NetVSC interfaces and their VFs, VMBus network devices and their
        drivers, hugepages, /dev/net/tun, CAP_NET_ADMIN and CAP_NET_RAW, kernel tc (ingress, u32, mirred,
        flower) and AF_XDP support, and the --vdev string Hyperlane would use. Changes nothing.
        Each line is [ ok ], [info], [warn] or [FAIL] with a hint below it (docs/doctor.md explains them).
        Exit status 0 whatever the checks find.

        options:
          --json    print the report as JSON, for scripts

        """;
}
