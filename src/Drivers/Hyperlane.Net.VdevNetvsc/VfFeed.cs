using System.Text;
using Hyperlane.Linux;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// The write end of the pipe a failsafe port reads its preferred sub-device's devargs from (its <c>fd()</c>
/// source), as DPDK's vdev_netvsc feeds it. Non-blocking: a full pipe is retried at the next check, never
/// waited on; a short write is followed by a lone newline so the partial line is discarded (the failsafe port
/// takes the last complete line). Not thread-safe: used under the device's lock.
/// </summary>
public sealed class VfFeed : IDisposable
{
    private readonly SafeFd writeEnd;
    private bool newlineOwed; // a short write's piece still needs its terminating newline

    private VfFeed(SafeFd writeEnd, SafeFd readEnd)
    {
        this.writeEnd = writeEnd;
        ReadEnd = readEnd;
    }

    /// <summary>The read end until <see cref="CloseReadEnd"/>: its number goes into <c>fd(N)</c>; the failsafe port duplicates it.</summary>
    public SafeFd? ReadEnd { get; private set; }

    /// <summary>Lines written whole.</summary>
    public long Lines { get; private set; }

    /// <summary>Writes that found the pipe full.</summary>
    public long Full { get; private set; }

    /// <summary>Writes that went in partly (invalidated with a newline).</summary>
    public long ShortWrites { get; private set; }

    /// <summary>Writes that failed otherwise.</summary>
    public long Failures { get; private set; }

    /// <summary>A non-blocking, close-on-exec pipe.</summary>
    /// <exception cref="LinuxException">pipe2 failed.</exception>
    public static VfFeed Create()
    {
        var r = Syscalls.Pipe(nonBlocking: true, out SafeFd? readEnd, out SafeFd? writeEnd);
        if (!r.IsSuccess)
        {
            throw new LinuxException("pipe2 (the VF feed of a failsafe port)", r.Error);
        }

        return new VfFeed(writeEnd!, readEnd!);
    }

    /// <summary>Closes this process's copy of the read end once the failsafe port holds its own.</summary>
    public void CloseReadEnd()
    {
        ReadEnd?.Dispose();
        ReadEnd = null;
    }

    /// <summary>Writes <paramref name="line"/> and a newline.</summary>
    public VfFeedResult Write(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (newlineOwed)
        {
            VfFeedResult owed = WriteNewline();
            if (owed != VfFeedResult.Written)
            {
                return owed;
            }
        }

        byte[] bytes = Encoding.ASCII.GetBytes(line + "\n");
        while (true)
        {
            var r = Syscalls.Write(writeEnd.Fd, bytes);
            if (r.IsSuccess && r.Value == bytes.Length)
            {
                Lines++;
                return VfFeedResult.Written;
            }

            if (r.IsSuccess)
            {
                // A pipe write under PIPE_BUF is atomic, so this needs a line over 4096 bytes or an odd fd;
                // finish the piece with a newline so the reader throws it away rather than joining it to the next.
                ShortWrites++;
                newlineOwed = true;
                _ = WriteNewline(); // if the pipe is full, it is written before the next line
                return VfFeedResult.Short;
            }

            if (r.Error == Errno.EINTR)
            {
                continue;
            }

            if (r.Error == Errno.EAGAIN)
            {
                Full++;
                return VfFeedResult.Full;
            }

            Failures++;
            return VfFeedResult.Failed;
        }
    }

    private VfFeedResult WriteNewline()
    {
        while (true)
        {
            var r = Syscalls.Write(writeEnd.Fd, "\n"u8);
            if (r.IsSuccess && r.Value == 1)
            {
                newlineOwed = false;
                return VfFeedResult.Written;
            }

            if (!r.IsSuccess && r.Error == Errno.EINTR)
            {
                continue;
            }

            if (!r.IsSuccess && r.Error == Errno.EAGAIN)
            {
                Full++;
                return VfFeedResult.Full;
            }

            Failures++;
            return VfFeedResult.Failed;
        }
    }

    public void Dispose()
    {
        CloseReadEnd();
        writeEnd.Dispose();
    }
}
