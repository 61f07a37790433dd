using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Hyperlane.Testing;

/// <summary>
/// DPDK 22.11's dpdk-testpmd as the peer of an interop test (DESIGN.md "Real peers where they exist"): started with
/// 2 lcores, no PCI, no hugepages and a file prefix of its own, under <c>timeout</c> so that it cannot outlive a
/// crashed test run and <c>stdbuf -oL</c> so that its output (kept for failure messages and for its statistics)
/// can be read while it runs. Killed (with its process tree) if
/// still running and its EAL runtime directory removed on dispose. Missing, it skips the test (fails under CI=true).
/// </summary>
public sealed partial class TestPmdPeer : IDisposable
{
    public const string Path = "/usr/bin/dpdk-testpmd";

    private const string TimeoutPath = "/usr/bin/timeout";

    /// <summary>Makes testpmd's stdout line-buffered: into a pipe it is block-buffered, and nothing would be read before exit.</summary>
    private const string StdbufPath = "/usr/bin/stdbuf";

    /// <summary>How long testpmd may run at most before <c>timeout</c> stops it (SIGTERM, then SIGKILL 5 s later).</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(180);

    private readonly StringBuilder output = new();
    private readonly string prefix;

    private TestPmdPeer(string prefix, int mainLcore, string vdev, IEnumerable<string> appArgs, TimeSpan lifetime)
    {
        this.prefix = prefix;
        var command = new List<string>();
        if (File.Exists(TimeoutPath))
        {
            command.AddRange([TimeoutPath, "-k", "5", ((int)lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture)]);
        }

        if (File.Exists(StdbufPath))
        {
            command.AddRange([StdbufPath, "-oL", "-eL"]);
        }

        command.Add(Path);
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        string main = mainLcore.ToString(CultureInfo.InvariantCulture);
        foreach (string a in new[] { "-l", "0-1", "--main-lcore", main, "--no-pci", "--no-huge", "-m", "256", "--file-prefix", prefix, "--vdev", vdev, "--" }.Concat(appArgs))
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

    /// <summary>The EAL file prefix (its runtime directory is /var/run/dpdk/&lt;prefix&gt;).</summary>
    public string Prefix => prefix;

    /// <summary>Everything testpmd printed so far (stdout and stderr, line by line).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Characters printed so far: a mark for <see cref="WaitForOutput"/>.</summary>
    public int OutputLength
    {
        get
        {
            lock (output)
            {
                return output.Length;
            }
        }
    }

    /// <summary>Starts testpmd (main lcore 0) with <paramref name="vdev"/> and the application arguments after "--".</summary>
    public static TestPmdPeer Start(string prefix, string vdev, params string[] appArgs) => Start(prefix, 0, vdev, appArgs);

    /// <summary>Starts testpmd with main lcore <paramref name="mainLcore"/> (the other of 0-1 forwards).</summary>
    public static TestPmdPeer Start(string prefix, int mainLcore, string vdev, params string[] appArgs)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(vdev);
        ArgumentNullException.ThrowIfNull(appArgs);
        Requires.Check(File.Exists(Path), "needs dpdk-testpmd (apt-get install dpdk-dev; test.sh installs it as root)");
        return new TestPmdPeer(prefix, mainLcore, vdev, appArgs, DefaultLifetime);
    }

    /// <summary>A file prefix unique to this process and <paramref name="tag"/> (EAL wants it short).</summary>
    public static string UniquePrefix(string tag) => string.Create(CultureInfo.InvariantCulture, $"hl{tag}{Environment.ProcessId}");

    /// <summary>The last 3000 characters testpmd printed.</summary>
    public string Tail()
    {
        lock (output)
        {
            string text = output.ToString();
            return text.Length > 3000 ? text[^3000..] : text;
        }
    }

    /// <summary>Types a command (interactive mode, -i).</summary>
    public void Command(string line)
    {
        Process.StandardInput.WriteLine(line);
        Process.StandardInput.Flush();
    }

    /// <summary>Waits until what testpmd printed after <paramref name="from"/> matches <paramref name="pattern"/>; false on timeout or exit.</summary>
    public bool WaitForOutput(Regex pattern, int from, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            string text = Output;
            if (from <= text.Length && pattern.IsMatch(text[from..]))
            {
                return true;
            }

            if (sw.Elapsed > timeout)
            {
                return false;
            }

            if (Process.HasExited)
            {
                Process.WaitForExit(); // the rest of the output
                text = Output;
                return from <= text.Length && pattern.IsMatch(text[from..]);
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Waits until testpmd has started forwarding (--auto-start or "start"): its ports are started (a virtio port
    /// drops what its receive rings held then) and the forwarding configuration is printed. False on timeout or exit.
    /// </summary>
    public bool WaitForForwarding(TimeSpan timeout) => WaitForOutput(Forwarding(), 0, timeout);

    /// <summary>
    /// Types "stop" (interactive mode) and waits for the forward statistics it prints; returns port
    /// <paramref name="port"/>'s, or null when they did not come within <paramref name="timeout"/>.
    /// </summary>
    public TestPmdForwardStats? StopForwarding(TimeSpan timeout, int port = 0)
    {
        int mark = OutputLength;
        Command("stop");
        if (!WaitForOutput(StopDone(), mark, timeout))
        {
            return null;
        }

        string text = Output;
        return TestPmdForwardStats.Parse(text[mark..], port);
    }

    /// <summary>Types "stop" and "quit" (interactive mode) and waits until it has exited and its output is read to the end.</summary>
    public bool Quit(TimeSpan timeout)
    {
        Process.StandardInput.WriteLine("stop");
        Process.StandardInput.WriteLine("quit");
        Process.StandardInput.Flush();
        if (!Process.WaitForExit(timeout))
        {
            return false;
        }

        Process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
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

    [GeneratedRegex(@"Accumulated forward statistics[\s\S]*?\nDone\.")]
    private static partial Regex StopDone();

    [GeneratedRegex(@"packet forwarding - ports=[\s\S]*RS bit threshold")]
    private static partial Regex Forwarding();

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
