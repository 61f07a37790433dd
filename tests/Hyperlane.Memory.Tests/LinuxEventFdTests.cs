using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary><see cref="EventFd"/>: counter semantics, semaphore mode, non-blocking reads, cross-thread signals.</summary>
public class LinuxEventFdTests
{
    [Fact]
    public void Signals_add_up_and_a_read_resets_the_counter()
    {
        using var e = new EventFd();
        Assert.False(e.Handle.IsInvalid);

        SysResult s = e.Signal();
        Assert.True(s.IsSuccess);
        Assert.Equal(8, s.Value); // bytes written
        Assert.True(e.Signal(41).IsSuccess);

        SysResult r = e.TryRead(out ulong value);
        Assert.True(r.IsSuccess);
        Assert.Equal(42UL, value);
        Assert.Equal(42, r.Value);

        SysResult empty = e.TryRead(out ulong none);
        Assert.False(empty.IsSuccess);
        Assert.Equal(Errno.EAGAIN, empty.Error);
        Assert.Equal(0UL, none);
    }

    [Fact]
    public void Initial_value_is_readable()
    {
        using var e = new EventFd(5);
        Assert.True(e.TryRead(out ulong v).IsSuccess);
        Assert.Equal(5UL, v);
    }

    [Fact]
    public void Semaphore_mode_reads_one_at_a_time()
    {
        using var e = new EventFd(2, EventFd.EFD_SEMAPHORE | EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
        Assert.True(e.TryRead(out ulong a).IsSuccess);
        Assert.True(e.TryRead(out ulong b).IsSuccess);
        Assert.Equal(1UL, a);
        Assert.Equal(1UL, b);
        Assert.Equal(Errno.EAGAIN, e.TryRead(out _).Error);
    }

    [Fact]
    public void Invalid_and_overflowing_signals_fail()
    {
        using var e = new EventFd();
        Assert.Equal(Errno.EINVAL, e.Signal(ulong.MaxValue).Error);
        Assert.True(e.Signal(ulong.MaxValue - 1).IsSuccess); // the largest counter value
        Assert.Equal(Errno.EAGAIN, e.Signal(1).Error);       // would overflow: non-blocking write fails
    }

    [Fact]
    public void Signal_from_another_thread_is_seen()
    {
        using var e = new EventFd();
        var t = new Thread(() => e.Signal(3));
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(10)));
        Assert.True(e.TryRead(out ulong v).IsSuccess);
        Assert.Equal(3UL, v);
    }

    [Fact]
    public void Dispose_closes_the_descriptor()
    {
        var e = new EventFd();
        SafeFd handle = e.Handle;
        e.Dispose();
        Assert.True(handle.IsClosed);
        e.Dispose();
    }
}
