namespace Hyperlane.Linux.Tests.Unix;

/// <summary>memfds for the fd-passing tests.</summary>
public static class TestMemFds
{
    public static SafeFd Create(long size, string name = "hl-unix-test", uint flags = MemFd.MFD_CLOEXEC)
    {
        SysResult r = MemFd.TryCreate(name, flags, size, out SafeFd? fd);
        r.ThrowIfFailed($"memfd_create({name}, {size} bytes)");
        return fd!;
    }

    public static List<SafeFd> Create(int count, long size)
    {
        var list = new List<SafeFd>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(Create(size, $"hl-unix-test-{i}"));
        }

        return list;
    }

    public static void DisposeAll(List<SafeFd> fds)
    {
        foreach (SafeFd fd in fds)
        {
            fd.Dispose();
        }

        fds.Clear();
    }
}
