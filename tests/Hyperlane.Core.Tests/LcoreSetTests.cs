using Hyperlane.Core.Runtime;
using Hyperlane.Linux;
using Hyperlane.Memory;

namespace Hyperlane.Core.Tests;

public class LcoreSetTests
{
    /// <summary>Up to two CPUs this process may use (the machine may have only one).</summary>
    private static int[] Cpus() => [.. CpuAffinity.GetAllowedCpus().Where(c => c < LcoreId.MaxLcores).Take(2)];

    [Fact]
    public void The_default_runtime_has_one_main_lcore_on_the_first_allowed_cpu()
    {
        using var rt = new HyperlaneRuntime();

        var main = Assert.Single(rt.Lcores.All);
        Assert.Equal(new Lcore(Cpus()[0], Cpus()[0], IsMain: true), main);
        Assert.Same(main, rt.Lcores.Main);
        Assert.Empty(rt.Lcores.Workers);
    }

    [Fact]
    public void Launch_runs_on_a_thread_pinned_to_the_lcore_cpu_and_marked_with_its_id()
    {
        int[] cpus = Cpus();
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Lcores = cpus });
        Assert.Equal(cpus.Length - 1, rt.Lcores.Workers.Count);
        var seen = new (int Lcore, int Cpu, string? Thread, bool Background)[LcoreId.MaxLcores];

        foreach (int id in cpus)
        {
            rt.Lcores.Launch(id, () =>
            {
                // Spin a little so the scheduler has had every chance to move us, were we not pinned.
                int cpu = CpuAffinity.CurrentCpu();
                for (int i = 0; i < 1000 && cpu == CpuAffinity.CurrentCpu(); i++)
                {
                    Thread.SpinWait(100);
                }

                seen[id] = (LcoreId.Current, CpuAffinity.CurrentCpu(), Thread.CurrentThread.Name, Thread.CurrentThread.IsBackground);
                return 1000 + id;
            });
        }

        foreach (int id in cpus)
        {
            Assert.Equal(1000 + id, rt.Lcores.Wait(id));
            Assert.Equal((id, id, $"lcore-{id}", true), seen[id]);
        }

        Assert.Equal(-1, LcoreId.Current); // the test thread is not an lcore
    }

    [Fact]
    public void Launch_takes_a_thread_name()
    {
        int cpu = Cpus()[0];
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Lcores = [cpu] });
        string? name = null;

        rt.Lcores.Launch(cpu, () => { name = Thread.CurrentThread.Name; return 0; }, "fwd-main");
        rt.Lcores.WaitAll();

        Assert.Equal("fwd-main", name);
    }

    [Fact]
    public void An_exception_inside_is_rethrown_by_wait_naming_the_lcore()
    {
        int cpu = Cpus()[^1];
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Lcores = Cpus() });
        var cause = new IOException("queue 3 vanished");

        rt.Lcores.Launch(cpu, () => throw cause);
        var ex = Assert.Throws<InvalidOperationException>(() => rt.Lcores.Wait(cpu));

        Assert.Equal($"lcore {cpu} failed: queue 3 vanished", ex.Message);
        Assert.Same(cause, ex.InnerException);

        // The lcore can be used again, and the old failure is gone.
        rt.Lcores.Launch(cpu, () => LcoreId.Current);
        Assert.Equal(cpu, rt.Lcores.Wait(cpu));
    }

    [Fact]
    public void Launching_an_lcore_not_in_the_list_or_a_busy_one_throws()
    {
        int cpu = Cpus()[0];
        using var rt = new HyperlaneRuntime(new HyperlaneRuntimeOptions { Lcores = [cpu] });
        int missing = cpu == 0 ? 1 : 0;

        var ex = Assert.Throws<ArgumentException>(() => rt.Lcores.Launch(missing, () => 0));
        Assert.StartsWith($"lcore {missing} is not in this runtime's core list ({cpu})", ex.Message, StringComparison.Ordinal);

        using var release = new ManualResetEventSlim();
        rt.Lcores.Launch(cpu, () => { release.Wait(); return 7; });
        var busy = Assert.Throws<InvalidOperationException>(() => rt.Lcores.Launch(cpu, () => 0));
        Assert.Equal($"lcore {cpu} is busy", busy.Message);
        release.Set();
        Assert.Equal(7, rt.Lcores.Wait(cpu));
    }

    [Fact]
    public void A_core_list_with_a_cpu_the_process_may_not_use_is_refused()
    {
        var allowed = CpuAffinity.GetAllowedCpus();
        int forbidden = Enumerable.Range(0, LcoreId.MaxLcores).First(c => !allowed.Contains(c));

        var ex = Assert.Throws<ArgumentException>(() => new HyperlaneRuntime(new HyperlaneRuntimeOptions { Lcores = [forbidden] }));

        Assert.StartsWith($"lcore {forbidden} has no CPU to run on (this process may use CPUs {string.Join(",", allowed)})", ex.Message, StringComparison.Ordinal);
    }
}
