namespace Hyperlane.Cli.Doctor;

/// <summary>The readable report: one line per check with its verdict, its hint indented below, then the --vdev string and a count.</summary>
public static class DoctorText
{
    public static void Write(DoctorReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        string where = report.Root == "/" ? string.Empty : $" (host root {report.Root})";
        output.WriteLine($"hyperlane doctor{where}: kernel {report.KernelRelease ?? "unknown"}");
        output.WriteLine();
        foreach (DoctorCheck c in report.Checks)
        {
            output.WriteLine($"{Tag(c.Status)} {c.Title}: {c.Detail}");
            output.WriteLine($"       {c.Hint}");
        }

        output.WriteLine();
        output.WriteLine($"vdev: {report.VdevText}");
        output.WriteLine($"summary: {report.Count(DoctorStatus.Ok)} ok, {report.Count(DoctorStatus.Warn)} warn, {report.Count(DoctorStatus.Fail)} fail, {report.Count(DoctorStatus.Info)} info");
    }

    /// <summary>"[ ok ]", "[info]", "[warn]", "[FAIL]": same width, so the report lines up.</summary>
    public static string Tag(DoctorStatus status) => status switch
    {
        DoctorStatus.Ok => "[ ok ]",
        DoctorStatus.Info => "[info]",
        DoctorStatus.Warn => "[warn]",
        DoctorStatus.Fail => "[FAIL]",
        _ => "[ ?? ]",
    };

    /// <summary>The status as JSON writes it: "ok", "info", "warn", "fail".</summary>
    public static string Name(DoctorStatus status) => status switch
    {
        DoctorStatus.Ok => "ok",
        DoctorStatus.Info => "info",
        DoctorStatus.Warn => "warn",
        DoctorStatus.Fail => "fail",
        _ => "unknown",
    };
}
