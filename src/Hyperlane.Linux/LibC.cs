using System.Runtime.InteropServices;

namespace Hyperlane.Linux;

/// <summary>Raw libc entry points. Callers go through the typed wrappers in this assembly.</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int munmap(nint addr, nuint length);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int mlock(nint addr, nuint length);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int memfd_create(string name, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib)]
    internal static partial int gettid();

    [LibraryImport(Lib)]
    internal static partial int getpid();

    [LibraryImport(Lib)]
    internal static partial uint geteuid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int sched_getcpu();

    [LibraryImport(Lib)]
    internal static partial long sysconf(int name);
}
