namespace Hyperlane.Benchmarks;

/// <summary>
/// Brings a benchmark body to its steady-state code before BenchmarkDotNet measures it. With tiered
/// compilation and dynamic PGO a method goes Tier0 → Tier0-instrumented → Tier1, each step after
/// 30 calls and a quiet period of the background tiering thread (~100 ms, longer when the machine
/// is loaded). BenchmarkDotNet 0.14's short jobs can start measuring before Tier1 is installed,
/// which showed up as 10x slower ring figures in quick runs. So every [GlobalSetup] calls its
/// bodies a few hundred times with pauses in between: the code measured is the code a forwarding
/// lcore runs after its first second.
/// </summary>
public static class JitWarmup
{
    public static void Run(params Func<int>[] bodies)
    {
        for (int round = 0; round < 4; round++)
        {
            foreach (var body in bodies)
            {
                for (int i = 0; i < 100; i++)
                {
                    body();
                }
            }

            Thread.Sleep(150);
        }
    }
}
