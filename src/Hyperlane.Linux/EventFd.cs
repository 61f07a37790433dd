namespace Hyperlane.Linux;

/// <summary>An eventfd(2) counter: a kernel object another thread, process or device can signal.</summary>
public sealed unsafe class EventFd : IDisposable
{
    public const int EFD_SEMAPHORE = 0x1;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public EventFd(uint initial = 0, int flags = EFD_CLOEXEC | EFD_NONBLOCK)
    {
        int fd = LibC.eventfd(initial, flags);
        if (fd < 0)
        {
            throw LinuxException.FromLastError("eventfd");
        }

        Handle = new SafeFd(fd);
    }

    public SafeFd Handle { get; }

    /// <summary>Adds <paramref name="value"/> to the counter.</summary>
    public SysResult Signal(ulong value = 1)
    {
        nint r = LibC.write(Handle.Fd, &value, sizeof(ulong));
        return SysResult.FromReturn(r);
    }

    /// <summary>Reads and resets the counter; EAGAIN when it is zero (non-blocking).</summary>
    public SysResult TryRead(out ulong value)
    {
        ulong v = 0;
        nint r = LibC.read(Handle.Fd, &v, sizeof(ulong));
        value = v;
        return r == sizeof(ulong) ? SysResult.Ok((long)v) : SysResult.FromReturn(r < 0 ? -1 : r);
    }

    public void Dispose() => Handle.Dispose();
}
