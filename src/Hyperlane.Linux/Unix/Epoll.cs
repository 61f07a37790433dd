using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// An epoll(7) instance (close-on-exec): register descriptors with a 64-bit tag, wait for any of them to
/// become ready. Registration follows the open file, not the number: a descriptor closed while a duplicate
/// of it stays open keeps reporting, so <see cref="Remove"/> before closing.
/// </summary>
public sealed unsafe class Epoll : IDisposable
{
    private const int EPOLL_CLOEXEC = 0x80000;
    private const int EPOLL_CTL_ADD = 1;
    private const int EPOLL_CTL_DEL = 2;
    private const int EPOLL_CTL_MOD = 3;

    /// <summary>How many events one Wait converts on architectures with the aligned layout (stack buffer).</summary>
    private const int ConvertBatch = 64;

    public Epoll()
    {
        int fd = LibC.epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
        {
            throw LinuxException.FromLastError("epoll_create1(EPOLL_CLOEXEC)");
        }

        Handle = new SafeFd(fd);
    }

    /// <summary>
    /// True where the kernel's struct epoll_event is packed (x86-64; and i386, where natural alignment gives
    /// the same 12 bytes): <see cref="EpollEvent"/> is then passed to the kernel as is.
    /// </summary>
    public static bool KernelLayoutIsPacked { get; } =
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    /// <summary>sizeof(struct epoll_event) for this process's architecture: 12 on x86-64, 16 on arm64.</summary>
    public static int KernelEventSize => KernelLayoutIsPacked ? sizeof(EpollEvent) : sizeof(EpollEventAligned);

    /// <summary>The epoll descriptor (itself pollable: readable when an event is pending).</summary>
    public SafeFd Handle { get; }

    /// <summary>The raw epoll descriptor number. Valid only until <see cref="Dispose"/>.</summary>
    public int Fd => Handle.Fd;

    /// <summary>Registers <paramref name="fd"/> for <paramref name="events"/>, reported with <paramref name="data"/>.</summary>
    /// <exception cref="LinuxException">epoll_ctl failed (EEXIST: already registered; EPERM: a regular file).</exception>
    public void Add(int fd, EpollEvents events, ulong data) => Control(EPOLL_CTL_ADD, "ADD", fd, events, data);

    /// <summary>Registers an owned descriptor; see <see cref="Add(int, EpollEvents, ulong)"/>.</summary>
    public void Add(SafeFd fd, EpollEvents events, ulong data) => Control(EPOLL_CTL_ADD, "ADD", fd, events, data);

    /// <summary>Changes the events and data of a registered descriptor (and re-arms an EPOLLONESHOT one).</summary>
    public void Modify(int fd, EpollEvents events, ulong data) => Control(EPOLL_CTL_MOD, "MOD", fd, events, data);

    /// <summary>Changes the events and data of a registered owned descriptor.</summary>
    public void Modify(SafeFd fd, EpollEvents events, ulong data) => Control(EPOLL_CTL_MOD, "MOD", fd, events, data);

    /// <summary>Unregisters <paramref name="fd"/>.</summary>
    /// <exception cref="LinuxException">ENOENT when it was not registered.</exception>
    public void Remove(int fd) => Control(EPOLL_CTL_DEL, "DEL", fd, EpollEvents.None, 0);

    /// <summary>Unregisters an owned descriptor.</summary>
    public void Remove(SafeFd fd) => Control(EPOLL_CTL_DEL, "DEL", fd, EpollEvents.None, 0);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> milliseconds (-1: forever, 0: just look) for registered
    /// descriptors to become ready and fills <paramref name="events"/> with them. A signal (EINTR) restarts
    /// the wait with the time that is left.
    /// </summary>
    /// <returns>How many entries of <paramref name="events"/> were filled; 0 on timeout.</returns>
    public int Wait(Span<EpollEvent> events, int timeoutMs)
    {
        if (events.IsEmpty)
        {
            throw new ArgumentException("epoll_wait needs room for at least one event", nameof(events));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);
        long start = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        bool added = false;
        Handle.DangerousAddRef(ref added);
        try
        {
            int left = timeoutMs;
            while (true)
            {
                int n = KernelLayoutIsPacked ? WaitPacked(events, left) : WaitAligned(events, left);
                if (n >= 0)
                {
                    return n;
                }

                var error = (Errno)Marshal.GetLastPInvokeError();
                if (error != Errno.EINTR)
                {
                    throw new LinuxException(string.Create(CultureInfo.InvariantCulture, $"epoll_wait on epoll fd {Handle.Fd}"), error);
                }

                if (timeoutMs > 0)
                {
                    long elapsed = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    left = elapsed >= timeoutMs ? 0 : timeoutMs - (int)elapsed;
                }
            }
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private int WaitPacked(Span<EpollEvent> events, int timeoutMs)
    {
        fixed (EpollEvent* p = events)
        {
            return LibC.epoll_wait(Handle.Fd, p, events.Length, timeoutMs);
        }
    }

    private int WaitAligned(Span<EpollEvent> events, int timeoutMs)
    {
        int max = Math.Min(events.Length, ConvertBatch);
        EpollEventAligned* native = stackalloc EpollEventAligned[max];
        int n = LibC.epoll_wait(Handle.Fd, native, max, timeoutMs);
        for (int i = 0; i < n; i++)
        {
            events[i] = new EpollEvent(native[i].Events, native[i].Data);
        }

        return n;
    }

    private void Control(int op, string name, SafeFd fd, EpollEvents events, ulong data)
    {
        ArgumentNullException.ThrowIfNull(fd);
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            Control(op, name, fd.Fd, events, data);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    private void Control(int op, string name, int fd, EpollEvents events, ulong data)
    {
        int r;
        if (KernelLayoutIsPacked)
        {
            EpollEvent e = new(events, data);
            r = LibC.epoll_ctl(Handle.Fd, op, fd, &e);
        }
        else
        {
            EpollEventAligned e = new() { Events = events, Data = data };
            r = LibC.epoll_ctl(Handle.Fd, op, fd, &e);
        }

        if (r != 0)
        {
            throw LinuxException.FromLastError(string.Create(CultureInfo.InvariantCulture, $"epoll_ctl({name}, fd {fd}, {events})"));
        }
    }
}
