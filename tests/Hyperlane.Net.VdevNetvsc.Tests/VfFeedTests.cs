using System.Diagnostics;
using System.Text;
using Hyperlane.Linux;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>
/// The pipe net_vdev_netvsc feeds a failsafe port's fd() source through: whole lines, never blocking on a full
/// pipe, and a clean failure once the reader is gone. No root needed.
/// </summary>
public sealed class VfFeedTests
{
    private const string Line = "net_af_packet_vsc0,iface=enP2p0s2,qpairs=2";

    [Fact]
    public void Written_line_is_read_back_whole_with_its_newline()
    {
        using var feed = VfFeed.Create();

        Assert.Equal(VfFeedResult.Written, feed.Write(Line));

        byte[] buffer = new byte[256];
        var r = Syscalls.Read(feed.ReadEnd!.Fd, buffer);
        Assert.True(r.IsSuccess, $"read: {r.Error}");
        Assert.Equal(Line + "\n", Encoding.ASCII.GetString(buffer, 0, (int)r.Value));
        Assert.Equal(1, feed.Lines);
        Assert.Equal(0, feed.Full);
        Assert.Equal(0, feed.ShortWrites);
        Assert.Equal(0, feed.Failures);
    }

    [Fact]
    public void Two_lines_are_read_back_in_order_and_nothing_else()
    {
        using var feed = VfFeed.Create();
        Assert.Equal(VfFeedResult.Written, feed.Write("a,iface=x"));
        Assert.Equal(VfFeedResult.Written, feed.Write("b,iface=y"));

        byte[] buffer = new byte[256];
        var r = Syscalls.Read(feed.ReadEnd!.Fd, buffer);
        Assert.Equal("a,iface=x\nb,iface=y\n", Encoding.ASCII.GetString(buffer, 0, (int)r.Value));

        // Both ends are non-blocking: an empty pipe reads EAGAIN instead of waiting.
        Assert.Equal(Errno.EAGAIN, Syscalls.Read(feed.ReadEnd.Fd, buffer).Error);
        Assert.Equal(2, feed.Lines);
    }

    [Fact]
    public void Full_pipe_returns_full_without_blocking_and_counts_it()
    {
        using var feed = VfFeed.Create();

        // Fill the pipe until the kernel says EAGAIN (64 KiB by default: about 1500 lines).
        int written = 0;
        VfFeedResult result;
        var fill = Stopwatch.StartNew();
        while ((result = feed.Write(Line)) == VfFeedResult.Written)
        {
            written++;
            Assert.True(written < 1_000_000, "the pipe never filled");
        }

        Assert.Equal(VfFeedResult.Full, result);
        Assert.True(written > 0);
        Assert.Equal(written, feed.Lines);
        Assert.Equal(1, feed.Full);

        // Once more on the full pipe: returns at once, counted again, nothing written.
        var sw = Stopwatch.StartNew();
        Assert.Equal(VfFeedResult.Full, feed.Write(Line));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"a write into the full pipe took {sw.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(2, feed.Full);
        Assert.Equal(written, feed.Lines);
        Assert.Equal(0, feed.ShortWrites);
        Assert.Equal(0, feed.Failures);

        // Every line in the pipe is whole: a full pipe never leaves a partial line behind.
        byte[] buffer = new byte[1 << 20];
        var r = Syscalls.Read(feed.ReadEnd!.Fd, buffer);
        Assert.True(r.IsSuccess, $"read: {r.Error}");
        string text = Encoding.ASCII.GetString(buffer, 0, (int)r.Value);
        Assert.Equal(written * (Line.Length + 1), text.Length);
        Assert.All(text.Split('\n')[..^1], l => Assert.Equal(Line, l));

        // Drained: the next write goes in again.
        Assert.Equal(VfFeedResult.Written, feed.Write(Line));
        Assert.True(fill.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Write_after_the_reader_closed_its_end_fails_and_counts_it()
    {
        using var feed = VfFeed.Create();
        feed.CloseReadEnd();
        Assert.Null(feed.ReadEnd);

        // EPIPE, not SIGPIPE: .NET ignores SIGPIPE, so the process survives and the write reports the failure.
        Assert.Equal(VfFeedResult.Failed, feed.Write(Line));
        Assert.Equal(1, feed.Failures);
        Assert.Equal(0, feed.Lines);
        Assert.Equal(0, feed.Full);

        Assert.Equal(VfFeedResult.Failed, feed.Write(Line));
        Assert.Equal(2, feed.Failures);
    }

    [Fact]
    public void Write_after_a_duplicate_of_the_read_end_is_closed_too_fails()
    {
        // As in the driver: the failsafe port holds a duplicate of the read end, the feed closes its own copy;
        // when the port closes the duplicate as well, the feed fails.
        using var feed = VfFeed.Create();
        var r0 = Syscalls.Duplicate(feed.ReadEnd!.Fd, out SafeFd? dup);
        Assert.True(r0.IsSuccess, $"dup: {r0.Error}");
        feed.CloseReadEnd();
        Assert.Equal(VfFeedResult.Written, feed.Write(Line));

        byte[] buffer = new byte[256];
        var r = Syscalls.Read(dup!.Fd, buffer);
        Assert.Equal(Line + "\n", Encoding.ASCII.GetString(buffer, 0, (int)r.Value));

        dup.Dispose();
        Assert.Equal(VfFeedResult.Failed, feed.Write(Line));
        Assert.Equal(1, feed.Failures);
    }

    [SkippableFact]
    public void Short_write_is_cut_off_with_a_newline_so_the_next_line_arrives_whole()
    {
        // VfFeedResult.Short promises: "a lone newline was written after it, so the failsafe port discards the piece".
        // A short write needs a line over PIPE_BUF and room for only part of it: fill the pipe with 100-byte lines,
        // free exactly one page (the kernel packs whole lines into a page), then write a 5000-byte line.
        using var feed = VfFeed.Create();
        string small = new('s', 99);
        int written = 0;
        while (feed.Write(small) == VfFeedResult.Written)
        {
            written++;
        }

        int perPage = Environment.SystemPageSize / 100;
        byte[] page = new byte[perPage * 100];
        var freed = Syscalls.Read(feed.ReadEnd!.Fd, page);
        Assert.Equal(page.Length, freed.Value);

        VfFeedResult result = feed.Write(new string('x', 5000));
        Skip.If(result != VfFeedResult.Short, $"this kernel took the 5000-byte line as {result}, not as a short write");
        Assert.Equal(1, feed.ShortWrites);

        // The failsafe port reads the stream as lines: drain it, feed a good line, and look at the last complete line.
        var stream = new StringBuilder();
        byte[] buffer = new byte[1 << 20];
        SysResult r;
        while ((r = Syscalls.Read(feed.ReadEnd.Fd, buffer)).IsSuccess && r.Value > 0)
        {
            stream.Append(Encoding.ASCII.GetString(buffer, 0, (int)r.Value));
        }

        Assert.Equal(VfFeedResult.Written, feed.Write(Line));
        r = Syscalls.Read(feed.ReadEnd.Fd, buffer);
        stream.Append(Encoding.ASCII.GetString(buffer, 0, (int)r.Value));
        string[] lines = stream.ToString().Split('\n');
        string last = lines[^2];
        Assert.True(last == Line, $"the line after a short write arrives as {last.Length} bytes ('{last[..Math.Min(20, last.Length)]}...'), not as '{Line}': the piece was not cut off");
    }

    [Fact]
    public void Dispose_closes_both_ends_and_is_idempotent()
    {
        var feed = VfFeed.Create();
        var readEnd = feed.ReadEnd!;
        feed.Dispose();
        Assert.True(readEnd.IsClosed);
        Assert.Null(feed.ReadEnd);
        feed.Dispose();
    }
}
