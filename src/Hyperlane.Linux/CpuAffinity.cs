namespace Hyperlane.Linux;

/// <summary>CPU affinity of threads (sched_setaffinity(2)).</summary>
public static unsafe class CpuAffinity
{
    private const int MaskWords = 16; // 1024 CPUs, glibc's cpu_set_t.

    /// <summary>Pins the calling OS thread to one CPU.</summary>
    public static SysResult PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= MaskWords * 64)
        {
            return SysResult.Fail(Errno.EINVAL);
        }

        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] |= 1UL << (cpu % 64);
        return SysResult.FromReturn(LibC.sched_setaffinity(0, (nuint)(MaskWords * sizeof(ulong)), mask));
    }

    /// <summary>The CPUs this process may run on, in ascending order.</summary>
    public static IReadOnlyList<int> GetAllowedCpus()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        if (LibC.sched_getaffinity(0, (nuint)(MaskWords * sizeof(ulong)), mask) != 0)
        {
            throw LinuxException.FromLastError("sched_getaffinity");
        }

        var cpus = new List<int>();
        for (int i = 0; i < MaskWords * 64; i++)
        {
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }

    /// <summary>The CPU the calling thread runs on now, or -1.</summary>
    public static int CurrentCpu() => LibC.sched_getcpu();
}
