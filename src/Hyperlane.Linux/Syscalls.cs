namespace Hyperlane.Linux;

/// <summary>
/// Thin, allocation-free wrappers over the socket, file and interface calls drivers use. Each returns a
/// <see cref="SysResult"/>: callers on the data path test it, callers on the control path throw with
/// <see cref="SysResult.ThrowIfFailed"/>. Pointers are the caller's: these are for code that owns the
/// memory it shares with the kernel (DESIGN.md, Code habits).
/// </summary>
public static unsafe class Syscalls
{
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_NETLINK = 16;
    public const int AF_PACKET = 17;
    public const int AF_XDP = 44;

    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUFFORCE = 33;
    public const int SO_SNDBUFFORCE = 32;

    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_TRUNC = 0x20;

    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    /// <summary>fcntl: duplicate onto the lowest free descriptor ≥ arg, with close-on-exec.</summary>
    public const int F_DUPFD_CLOEXEC = 1030;

    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    /// <summary>CLONE_NEWNET, for setns/unshare of network namespaces.</summary>
    public const int CLONE_NEWNET = 0x40000000;

    /// <summary>Opens a socket with close-on-exec set.</summary>
    public static SysResult Socket(int domain, int type, int protocol, out SafeFd? fd)
    {
        int raw = LibC.socket(domain, type | SOCK_CLOEXEC, protocol);
        fd = raw >= 0 ? new SafeFd(raw) : null;
        return SysResult.FromReturn(raw);
    }

    /// <summary>Opens a file (e.g. /dev/net/tun) with close-on-exec set.</summary>
    public static SysResult Open(string path, int flags, out SafeFd? fd)
    {
        int raw = LibC.open(path, flags | O_CLOEXEC);
        fd = raw >= 0 ? new SafeFd(raw) : null;
        return SysResult.FromReturn(raw);
    }

    public static SysResult Bind(int fd, void* address, int length) => SysResult.FromReturn(LibC.bind(fd, address, (uint)length));

    public static SysResult GetSockName(int fd, void* address, ref int length)
    {
        uint len = (uint)length;
        int r = LibC.getsockname(fd, address, &len);
        length = (int)len;
        return SysResult.FromReturn(r);
    }

    public static SysResult SetSockOpt(int fd, int level, int name, void* value, int length) =>
        SysResult.FromReturn(LibC.setsockopt(fd, level, name, value, (uint)length));

    public static SysResult SetSockOpt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int));

    public static SysResult GetSockOpt(int fd, int level, int name, void* value, ref int length)
    {
        uint len = (uint)length;
        int r = LibC.getsockopt(fd, level, name, value, &len);
        length = (int)len;
        return SysResult.FromReturn(r);
    }

    public static SysResult SendTo(int fd, ReadOnlySpan<byte> data, int flags, void* address, int addressLength)
    {
        fixed (byte* p = data)
        {
            return SysResult.FromReturn(LibC.sendto(fd, p, (nuint)data.Length, flags, address, (uint)addressLength));
        }
    }

    public static SysResult Send(int fd, ReadOnlySpan<byte> data, int flags) => SendTo(fd, data, flags, null, 0);

    public static SysResult RecvFrom(int fd, Span<byte> buffer, int flags, void* address, ref int addressLength)
    {
        uint len = (uint)addressLength;
        fixed (byte* p = buffer)
        {
            nint r = LibC.recvfrom(fd, p, (nuint)buffer.Length, flags, address, address == null ? null : &len);
            addressLength = (int)len;
            return SysResult.FromReturn(r);
        }
    }

    public static SysResult Recv(int fd, Span<byte> buffer, int flags)
    {
        int none = 0;
        return RecvFrom(fd, buffer, flags, null, ref none);
    }

    /// <summary>sendmsg(2) with a caller-built struct msghdr.</summary>
    public static SysResult SendMsg(int fd, void* msghdr, int flags) => SysResult.FromReturn(LibC.sendmsg(fd, msghdr, flags));

    /// <summary>recvmsg(2) with a caller-built struct msghdr.</summary>
    public static SysResult RecvMsg(int fd, void* msghdr, int flags) => SysResult.FromReturn(LibC.recvmsg(fd, msghdr, flags));

    /// <summary>sendmmsg(2) with caller-built struct mmsghdr[]; returns how many messages went.</summary>
    public static SysResult SendMmsg(int fd, void* msgvec, int count, int flags) => SysResult.FromReturn(LibC.sendmmsg(fd, msgvec, (uint)count, flags));

    /// <summary>poll(2) on caller-built struct pollfd[] (see <see cref="PollFd"/>).</summary>
    public static SysResult Poll(PollFd* fds, int count, int timeoutMs) => SysResult.FromReturn(LibC.poll(fds, (nuint)count, timeoutMs));

    public static SysResult Ioctl(int fd, nuint request, void* argument) => SysResult.FromReturn(LibC.ioctl(fd, request, argument));

    public static SysResult Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return SysResult.FromReturn(LibC.read(fd, p, (nuint)buffer.Length));
        }
    }

    public static SysResult Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return SysResult.FromReturn(LibC.write(fd, p, (nuint)data.Length));
        }
    }

    /// <summary>readv(2) into caller-built struct iovec[] (see <see cref="IoVec"/>).</summary>
    public static SysResult Readv(int fd, IoVec* iov, int count) => SysResult.FromReturn(LibC.readv(fd, iov, count));

    /// <summary>writev(2) from caller-built struct iovec[].</summary>
    public static SysResult Writev(int fd, IoVec* iov, int count) => SysResult.FromReturn(LibC.writev(fd, iov, count));

    public static SysResult SetNonBlocking(int fd)
    {
        int flags = LibC.fcntl(fd, F_GETFL, 0);
        return flags < 0 ? SysResult.FromReturn(-1) : SysResult.FromReturn(LibC.fcntl(fd, F_SETFL, flags | O_NONBLOCK));
    }

    /// <summary>
    /// Duplicates <paramref name="fd"/> (close-on-exec) so the copy can be kept and closed independently of
    /// the original; EBADF when <paramref name="fd"/> is not open.
    /// </summary>
    public static SysResult Duplicate(int fd, out SafeFd? copy)
    {
        int raw = fd < 0 ? -1 : LibC.fcntl(fd, F_DUPFD_CLOEXEC, 0);
        copy = raw >= 0 ? new SafeFd(raw) : null;
        return fd < 0 ? SysResult.Fail(Errno.EBADF) : SysResult.FromReturn(raw);
    }

    /// <summary>pipe2(2) with close-on-exec, plus O_NONBLOCK on both ends when <paramref name="nonBlocking"/>.</summary>
    public static SysResult Pipe(bool nonBlocking, out SafeFd? readEnd, out SafeFd? writeEnd)
    {
        int* fds = stackalloc int[2];
        int rc = LibC.pipe2(fds, O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0));
        readEnd = rc == 0 ? new SafeFd(fds[0]) : null;
        writeEnd = rc == 0 ? new SafeFd(fds[1]) : null;
        return SysResult.FromReturn(rc);
    }

    /// <summary>The interface index of <paramref name="name"/> in the calling thread's network namespace, or ENODEV.</summary>
    public static SysResult InterfaceIndex(string name)
    {
        uint index = LibC.if_nametoindex(name);
        return index == 0 ? SysResult.FromReturn(-1) : SysResult.Ok(index);
    }

    /// <summary>Moves the calling thread into the namespace open at <paramref name="nsFd"/> (setns(2)).</summary>
    public static SysResult SetNs(int nsFd, int nsType) => SysResult.FromReturn(LibC.setns(nsFd, nsType));

    public static SysResult Unshare(int flags) => SysResult.FromReturn(LibC.unshare(flags));
}
