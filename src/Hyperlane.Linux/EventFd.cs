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

    private EventFd(SafeFd handle) => Handle = handle;

    public SafeFd Handle { get; }

    /// <summary>
    /// Wraps an eventfd received from a peer (a vhost-user kick or call descriptor), taking ownership of
    /// <paramref name="fd"/>. Its flags stay what the peer chose: O_NONBLOCK belongs to the open file the
    /// peer shares with us, so if the peer made it blocking, <see cref="TryRead"/> blocks while the counter
    /// is zero (wait for readability first, e.g. with epoll). The descriptor is not checked to be an eventfd.
    /// </summary>
    public static EventFd FromDescriptor(SafeFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if (fd.IsInvalid || fd.IsClosed)
        {
            throw new ArgumentException("the descriptor is closed or invalid", nameof(fd));
        }

        return new EventFd(fd);
    }

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
