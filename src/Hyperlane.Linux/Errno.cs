namespace Hyperlane.Linux;

/// <summary>Linux errno values (asm-generic/errno-base.h, errno.h) that Hyperlane names in errors.</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    ENOTDIR = 20,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOSPC = 28,
    ERANGE = 34,
    ENOSYS = 38,
    ENOTSUP = 95,
    EADDRINUSE = 98,
    ENETDOWN = 100,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
}
