using System.Diagnostics;

namespace Hyperlane.Testing;

/// <summary>Runs iproute2's <c>ip</c> for the test lab (product code talks rtnetlink itself; tests may use the tool).</summary>
public static class IpCommand
{
    private static readonly Lazy<string?> Path = new(() =>
        new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists));

    public static bool IsAvailable => Path.Value is not null;

    /// <summary>Runs <c>ip args...</c>; returns stdout, throws with the command and stderr when it fails.</summary>
    public static string Run(params string[] args) => Exec(Path.Value ?? throw new InvalidOperationException("the ip command (iproute2) is not installed"), args);

    /// <summary>Runs a program without a shell; returns stdout, throws with stderr on a non-zero exit.</summary>
    public static string Exec(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within 30 s");
        }

        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Trim()}");
        }

        return stdout.Result;
    }
}
