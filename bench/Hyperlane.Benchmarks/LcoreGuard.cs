using System.Runtime.CompilerServices;
using Hyperlane.Memory;

namespace Hyperlane.Benchmarks;

/// <summary>
/// Makes sure the thread that runs a benchmark is marked as lcore 0, so a mempool serves it from its
/// per-lcore cache as it would serve a forwarding lcore. BenchmarkDotNet does not promise that
/// [GlobalSetup] runs on the benchmark's thread, so every benchmark calls <see cref="Ensure"/> once
/// per invocation (a thread-static read, amortised over thousands of objects) and we count how often
/// the mark was missing: the count goes into the summary ("lcoreMarkedInBenchmark").
/// </summary>
public static class LcoreGuard
{
    private static int setupThread;
    private static long markedInBenchmark;

    /// <summary>Marks the setup thread (called from [GlobalSetup]).</summary>
    public static void MarkSetupThread()
    {
        LcoreId.SetCurrent(0);
        setupThread = Environment.CurrentManagedThreadId;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Ensure()
    {
        if (LcoreId.Current != 0)
        {
            MarkHere();
        }
    }

    /// <summary>Records, under <paramref name="name"/>, whether setup and benchmark shared a thread.</summary>
    public static void Report(string name)
    {
        long n = Interlocked.Read(ref markedInBenchmark);
        BenchNotes.Set(name + ".lcoreMarkedInBenchmark", n == 0
            ? "no (setup thread " + setupThread + " runs the benchmark)"
            : "yes, " + n + " time(s): the benchmark ran on a thread other than setup's");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MarkHere()
    {
        LcoreId.SetCurrent(0);
        Interlocked.Increment(ref markedInBenchmark);
    }
}
