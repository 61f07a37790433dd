using System.Runtime.InteropServices;
using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary><see cref="SysResult"/>, <see cref="LinuxException"/> and <see cref="ProcessInfo"/>.</summary>
public class LinuxSysResultTests
{
    [Fact]
    public void Ok_carries_the_value()
    {
        SysResult r = SysResult.Ok(42);
        Assert.True(r.IsSuccess);
        Assert.Equal(42, r.Value);
        Assert.Equal(Errno.None, r.Error);
        Assert.Equal(42, r.ThrowIfFailed("op"));
        Assert.Equal("42", r.ToString());

        Assert.True(SysResult.Ok(0).IsSuccess);
        Assert.True(default(SysResult).IsSuccess); // zero value, no errno
    }

    [Fact]
    public void Fail_carries_the_errno_and_throws_naming_the_operation()
    {
        SysResult r = SysResult.Fail(Errno.ENOENT);
        Assert.False(r.IsSuccess);
        Assert.Equal(-1, r.Value);
        Assert.Equal(Errno.ENOENT, r.Error);
        Assert.Equal("ENOENT", r.ToString());

        var e = Assert.Throws<LinuxException>(() => r.ThrowIfFailed("open /dev/vfio/7"));
        Assert.Equal("open /dev/vfio/7", e.Operation);
        Assert.Equal(Errno.ENOENT, e.Error);
        Assert.Equal("open /dev/vfio/7 failed: ENOENT (No such file or directory)", e.Message);
    }

    [Fact]
    public void FromReturn_reads_errno_only_for_negative_returns()
    {
        Marshal.SetLastPInvokeError((int)Errno.EBUSY);
        SysResult ok = SysResult.FromReturn(7);
        Assert.True(ok.IsSuccess);
        Assert.Equal(7, ok.Value);
        Assert.Equal(Errno.None, ok.Error);

        Assert.True(SysResult.FromReturn(0).IsSuccess);

        Marshal.SetLastPInvokeError((int)Errno.EAGAIN);
        SysResult failed = SysResult.FromReturn(-1);
        Assert.False(failed.IsSuccess);
        Assert.Equal(-1, failed.Value);
        Assert.Equal(Errno.EAGAIN, failed.Error);
    }

    [Fact]
    public void LinuxException_describes_errnos_with_strerror()
    {
        Assert.Equal("Invalid argument", LinuxException.Describe(Errno.EINVAL));
        Assert.Equal("Operation not permitted", LinuxException.Describe(Errno.EPERM));

        Marshal.SetLastPInvokeError((int)Errno.EACCES);
        LinuxException e = LinuxException.FromLastError("mmap");
        Assert.Equal(Errno.EACCES, e.Error);
        Assert.Equal("mmap", e.Operation);
        Assert.Contains("Permission denied", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errno_values_match_linux()
    {
        Assert.Equal(1, (int)Errno.EPERM);
        Assert.Equal(2, (int)Errno.ENOENT);
        Assert.Equal(11, (int)Errno.EAGAIN);
        Assert.Equal(12, (int)Errno.ENOMEM);
        Assert.Equal(22, (int)Errno.EINVAL);
        Assert.Equal(38, (int)Errno.ENOSYS);
        Assert.Equal(95, (int)Errno.ENOTSUP);
        Assert.Equal(110, (int)Errno.ETIMEDOUT);
    }

    [Fact]
    public void ProcessInfo_names_this_process_and_thread()
    {
        Assert.Equal(Environment.ProcessId, ProcessInfo.ProcessId);
        Assert.True(ProcessInfo.ThreadId > 0);
        Assert.Equal(Environment.UserName == "root", ProcessInfo.IsRoot);

        int otherTid = 0;
        var t = new Thread(() => otherTid = ProcessInfo.ThreadId);
        t.Start();
        t.Join();
        Assert.NotEqual(ProcessInfo.ThreadId, otherTid);
        Assert.True(otherTid > 0);
    }
}
