using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary><see cref="CpuAffinity"/>: the allowed set, pinning a thread, and bad CPU numbers.</summary>
public class LinuxCpuAffinityTests
{
    [Fact]
    public void Allowed_cpus_are_ascending_and_include_the_current_one()
    {
        IReadOnlyList<int> cpus = CpuAffinity.GetAllowedCpus();
        Assert.NotEmpty(cpus);
        Assert.True(cpus.Count <= Environment.ProcessorCount || Environment.ProcessorCount == 1);
        Assert.Equal(cpus.Order(), cpus);
        Assert.Equal(cpus.Count, cpus.Distinct().Count());
        Assert.All(cpus, c => Assert.InRange(c, 0, 1023));
    }

    [Fact]
    public void Pinning_a_new_thread_keeps_it_on_that_cpu()
    {
        IReadOnlyList<int> cpus = CpuAffinity.GetAllowedCpus();
        foreach (int cpu in new[] { cpus[0], cpus[^1] })
        {
            SysResult pinned = default;
            var seen = new List<int>();
            IReadOnlyList<int>? allowedAfter = null;
            var t = new Thread(() =>
            {
                pinned = CpuAffinity.PinCurrentThread(cpu);
                for (int i = 0; i < 20; i++)
                {
                    seen.Add(CpuAffinity.CurrentCpu());
                    Thread.Yield();
                }

                allowedAfter = CpuAffinity.GetAllowedCpus();
            });
            t.Start();
            Assert.True(t.Join(TimeSpan.FromSeconds(10)));

            Assert.True(pinned.IsSuccess, $"pin to CPU {cpu}: {pinned}");
            Assert.All(seen, c => Assert.Equal(cpu, c));
            Assert.Equal([cpu], allowedAfter!); // sched_getaffinity(0) is the calling thread's mask
        }

        // The test thread itself was never pinned.
        Assert.Equal(cpus, CpuAffinity.GetAllowedCpus());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1024)]
    [InlineData(int.MaxValue)]
    public void Out_of_range_cpu_is_EINVAL(int cpu)
    {
        SysResult r = CpuAffinity.PinCurrentThread(cpu);
        Assert.False(r.IsSuccess);
        Assert.Equal(Errno.EINVAL, r.Error);
    }

    [Fact]
    public void Cpu_outside_the_allowed_set_is_refused_by_the_kernel()
    {
        IReadOnlyList<int> cpus = CpuAffinity.GetAllowedCpus();
        int missing = Enumerable.Range(0, 1024).First(c => !cpus.Contains(c));
        SysResult r = default;
        var t = new Thread(() => r = CpuAffinity.PinCurrentThread(missing));
        t.Start();
        t.Join();
        Assert.False(r.IsSuccess);
        Assert.Equal(Errno.EINVAL, r.Error);
    }

    [Fact]
    public void Current_cpu_is_allowed()
    {
        int cpu = CpuAffinity.CurrentCpu();
        Assert.True(cpu >= 0);
        Assert.InRange(cpu, 0, 1023);
    }
}
