using System.Runtime.InteropServices;

namespace Hyperlane.Linux;

/// <summary>
/// Unix-domain socket, epoll and file-status entry points (sys/socket.h, sys/un.h, sys/epoll.h, sys/stat.h,
/// sys/statfs.h, unistd.h) used by <see cref="Unix.UnixStreamSocket"/>, <see cref="Unix.Epoll"/> and
/// <see cref="Unix.SharedMapping"/>.
/// </summary>
internal static unsafe partial class LibC
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int connect(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int listen(int fd, int backlog);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int accept4(int fd, void* addr, uint* addrlen, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int unlink(string path);

    /// <summary>statx(2) (glibc 2.28+): one struct layout on every architecture, unlike struct stat.</summary>
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string path, int flags, uint mask, void* statxbuf);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fstatfs(int fd, void* buf);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);
}
