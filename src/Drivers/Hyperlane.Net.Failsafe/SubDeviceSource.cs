using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hyperlane.Core.Devices;
using Hyperlane.Linux;

namespace Hyperlane.Net.Failsafe;

/// <summary>
/// Where a sub-device's devargs come from: written in the failsafe devargs (<c>dev(...)</c>), printed by a
/// command (<c>exec(...)</c>) or written into a file descriptor (<c>fd(...)</c>). Every text that comes from
/// outside is checked here before it is probed.
/// </summary>
internal abstract class SubDeviceSource : IDisposable
{
    /// <summary>Longest devargs line accepted from exec() or fd() (DPDK's limit).</summary>
    public const int MaxLineLength = 4096;

    /// <summary>How the source was written, for logs: "dev(net_tap0,iface=x)".</summary>
    public abstract string Description { get; }

    /// <summary>Whether the devargs are fixed (dev()) or must be read again after each removal.</summary>
    public abstract bool IsFixed { get; }

    /// <summary>
    /// The devargs to probe now, or null when there are none: then <paramref name="error"/> says what was wrong
    /// (a command that failed, a bad line, a bad fd), or is null when there is simply nothing yet (no line
    /// written, a command that printed nothing), which is not an error. Never throws for bad outside input.
    /// </summary>
    public abstract string? TryRead(DriverRegistry drivers, string failsafeName, out string? error);

    public virtual void Dispose()
    {
    }

    /// <summary>Checks a devargs line from outside: it parses, names a known driver, and is not the failsafe itself.</summary>
    internal static string? Check(string line, DriverRegistry drivers, string failsafeName, out string? error)
    {
        if (line.Length > MaxLineLength)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"devargs line of {line.Length} characters is longer than {MaxLineLength}");
            return null;
        }

        if (!Devargs.TryParse(line, out var args, out string? parseError))
        {
            error = $"devargs {Quote(line)} are malformed: {parseError}";
            return null;
        }

        if (drivers.Match(args.Name) is null)
        {
            error = $"devargs {Quote(line)}: no driver for device '{args.Name}'";
            return null;
        }

        if (string.Equals(args.Name, failsafeName, StringComparison.Ordinal))
        {
            error = $"devargs {Quote(line)} name the failsafe port itself";
            return null;
        }

        error = null;
        return args.Source.Trim();
    }

    internal static string Quote(string s) => s.Length <= 80 ? "'" + s + "'" : "'" + s[..77] + "...'";
}

/// <summary><c>dev(devargs)</c>: fixed devargs, checked at probe.</summary>
internal sealed class FixedSource(string devargs) : SubDeviceSource
{
    public override string Description => "dev(" + devargs + ")";

    public override bool IsFixed => true;

    public override string? TryRead(DriverRegistry drivers, string failsafeName, out string? error) =>
        Check(devargs, drivers, failsafeName, out error);
}

/// <summary>
/// <c>exec(command)</c>: runs the command without a shell (the text is split at commas and whitespace into
/// the program and its arguments, as DPDK turns commas into spaces) and takes the first line it prints.
/// A command that cannot start, fails without output, prints nothing or runs longer than
/// <see cref="Timeout"/> (it is then killed) gives no sub-device this round; it is run again at the next.
/// </summary>
internal sealed class ExecSource : SubDeviceSource
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly string command;
    private readonly string[] argv;

    public ExecSource(string command)
    {
        this.command = command;
        argv = command.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
    }

    public override string Description => "exec(" + command + ")";

    public override bool IsFixed => false;

    public override string? TryRead(DriverRegistry drivers, string failsafeName, out string? error)
    {
        if (argv.Length == 0)
        {
            error = "exec(): no command";
            return null;
        }

        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in argv.AsSpan(1))
        {
            psi.ArgumentList.Add(a);
        }

        Process? process;
        try
        {
            process = Process.Start(psi);
        }
        catch (Win32Exception ex)
        {
            error = $"{Description}: cannot run '{argv[0]}': {ex.Message}";
            return null;
        }

        if (process is null)
        {
            error = $"{Description}: cannot run '{argv[0]}'";
            return null;
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // exited in between
                }

                process.WaitForExit(1000);
                error = string.Create(CultureInfo.InvariantCulture, $"{Description}: still running after {Timeout.TotalSeconds:0} s; killed");
                return null;
            }

            // WaitForExit does not wait for ReadToEndAsync: under load the reader can finish well after the exit,
            // and taking "no output yet" for "printed nothing" would lose the line (seen in CI).
            if (!stdout.Wait(Timeout))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"{Description}: its output was still not read {Timeout.TotalSeconds:0} s after it exited");
                return null;
            }

            string output = stdout.Result;
            string first = FirstLine(output);
            if (first.Length == 0)
            {
                string err = stderr.Wait(1000) ? FirstLine(stderr.Result) : string.Empty;
                error = process.ExitCode != 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{Description}: exited with status {process.ExitCode}{(err.Length > 0 ? ": " + err : string.Empty)}")
                    : null; // printed nothing: no sub-device yet
                return null;
            }

            return Check(first, drivers, failsafeName, out error);
        }
    }

    private static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n', StringComparison.Ordinal);
        return (nl >= 0 ? text[..nl] : text).Trim();
    }
}

/// <summary>
/// <c>fd(n)</c>: reads devargs lines written into descriptor <c>n</c> (vdev_netvsc feeds its VF this way).
/// The descriptor is duplicated at probe (the copy is ours and closed with the port) and made non-blocking.
/// Each round reads what is there; the last complete line wins. A partial line waits for its newline; a
/// line longer than <see cref="SubDeviceSource.MaxLineLength"/> is discarded up to its newline.
/// </summary>
internal sealed class FdSource : SubDeviceSource
{
    private readonly string text;
    private readonly SafeFd? fd;
    private readonly string? openError;
    private readonly StringBuilder partial = new();
    private bool discarding;

    public FdSource(string text)
    {
        this.text = text;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            openError = $"fd({text}): not a file descriptor number";
            return;
        }

        IsNumber = true;

        var r = Syscalls.Duplicate(number, out fd);
        if (!r.IsSuccess)
        {
            openError = r.Error == Errno.EBADF
                ? $"fd({text}): not an open file descriptor"
                : $"fd({text}): cannot duplicate it: {r.Error}";
            return;
        }

        var nb = Syscalls.SetNonBlocking(fd!.Fd);
        if (!nb.IsSuccess)
        {
            openError = $"fd({text}): cannot make it non-blocking: {nb.Error}";
            fd.Dispose();
            fd = null;
        }
    }

    public override string Description => "fd(" + text + ")";

    public override bool IsFixed => false;

    /// <summary>Whether the text is a descriptor number at all (a devargs error when not; a closed fd is not one).</summary>
    public bool IsNumber { get; }

    /// <summary>Why the descriptor is unusable (checked once, at probe), or null.</summary>
    public string? OpenError => openError;

    /// <summary>Lines thrown away: too long, or not valid devargs.</summary>
    public long DiscardedLines { get; private set; }

    public override string? TryRead(DriverRegistry drivers, string failsafeName, out string? error)
    {
        if (fd is null)
        {
            error = openError;
            return null;
        }

        string? last = null;
        string? readError = null;
        Span<byte> buffer = stackalloc byte[4096];
        while (true)
        {
            var r = Syscalls.Read(fd.Fd, buffer);
            if (!r.IsSuccess)
            {
                if (r.Error == Errno.EINTR)
                {
                    continue;
                }

                if (r.Error != Errno.EAGAIN)
                {
                    readError = $"{Description}: read failed: {r.Error}";
                }

                break;
            }

            if (r.Value == 0)
            {
                break; // writer closed: what is complete stays valid
            }

            foreach (byte b in buffer[..(int)r.Value])
            {
                if (b == (byte)'\n')
                {
                    if (!discarding)
                    {
                        string line = partial.ToString().Trim();
                        if (line.Length > 0)
                        {
                            last = line;
                        }
                    }

                    partial.Clear();
                    discarding = false;
                }
                else if (!discarding)
                {
                    if (partial.Length >= MaxLineLength)
                    {
                        partial.Clear();
                        discarding = true;
                        DiscardedLines++;
                        readError = string.Create(CultureInfo.InvariantCulture, $"{Description}: a line longer than {MaxLineLength} characters was discarded");
                    }
                    else
                    {
                        // Devargs are ASCII; anything else is kept as a replacement character and fails the parse.
                        partial.Append(b is >= 0x20 and < 0x7f or (byte)'\t' or (byte)'\r' ? (char)b : '\uFFFD');
                    }
                }
            }
        }

        if (last is null)
        {
            error = readError; // null: no complete line yet
            return null;
        }

        string? checkedLine = Check(last, drivers, failsafeName, out error);
        if (checkedLine is null)
        {
            DiscardedLines++;
        }

        return checkedLine;
    }

    public override void Dispose() => fd?.Dispose();
}
