using System.Diagnostics;
using System.Text;
using Hyperlane.Testing;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// DPDK 22.11's dpdk-testpmd as the peer of an interop test (DESIGN.md "Real peers where they exist"): started with
/// 2 lcores, no PCI, no hugepages and a file prefix of its own, its output kept for failure messages; killed if
/// still running and its EAL runtime directory removed on dispose. Missing, it skips the test (fails under CI=true).
/// </summary>
internal sealed class TestPmdPeer : IDisposable
{
    public const string Path = "/usr/bin/dpdk-testpmd";

    private readonly StringBuilder output = new();
    private readonly string prefix;

    private TestPmdPeer(string prefix, string vdev, IEnumerable<string> appArgs)
    {
        this.prefix = prefix;
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-l", "0-1", "--main-lcore", "0", "--no-pci", "--no-huge", "-m", "256", "--file-prefix", prefix, "--vdev", vdev, "--" }.Concat(appArgs))
        {
            psi.ArgumentList.Add(a);
        }

        Process = new Process { StartInfo = psi };
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public bool HasExited => Process.HasExited;

    /// <summary>Starts testpmd with <paramref name="vdev"/> and the application arguments after "--".</summary>
    public static TestPmdPeer Start(string prefix, string vdev, params string[] appArgs)
    {
        Requires.Check(File.Exists(Path), "needs dpdk-testpmd (apt-get install dpdk-dev; test.sh installs it as root)");
        return new TestPmdPeer(prefix, vdev, appArgs);
    }

    /// <summary>The last 3000 characters testpmd printed.</summary>
    public string Tail()
    {
        lock (output)
        {
            string text = output.ToString();
            return text.Length > 3000 ? text[^3000..] : text;
        }
    }

    /// <summary>Types "stop" and "quit" (interactive mode) and waits until it has exited and its output is read to the end.</summary>
    public bool Quit(TimeSpan timeout)
    {
        Process.StandardInput.WriteLine("stop");
        Process.StandardInput.WriteLine("quit");
        if (!Process.WaitForExit(timeout))
        {
            return false;
        }

        Process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit(10_000);
        }

        Process.Dispose();
        try
        {
            Directory.Delete(System.IO.Path.Combine("/var/run/dpdk", prefix), recursive: true); // EAL's runtime dir for this prefix
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void Append(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
