using Hyperlane.Linux;
using Hyperlane.Memory;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Core.Runtime;

/// <summary>
/// The lcores of a runtime (EAL's -l). Each worker launch runs a function on a dedicated thread pinned
/// to the lcore's CPU, marked with its lcore id so mempool caches work; <see cref="Wait"/> joins it.
/// </summary>
public sealed partial class LcoreSet
{
    private readonly Thread?[] threads;
    private readonly int[] results;
    private readonly Exception?[] failures;
    private readonly ILogger logger;

    internal LcoreSet(IReadOnlyList<int> lcoreIds, ILogger logger)
    {
        this.logger = logger;
        if (lcoreIds.Count == 0)
        {
            throw new ArgumentException("at least one lcore is needed", nameof(lcoreIds));
        }

        var allowed = CpuAffinity.GetAllowedCpus();
        var list = new List<Lcore>();
        for (int i = 0; i < lcoreIds.Count; i++)
        {
            int id = lcoreIds[i];
            if (!allowed.Contains(id))
            {
                throw new ArgumentException($"lcore {id} has no CPU to run on (this process may use CPUs {string.Join(",", allowed)})", nameof(lcoreIds));
            }

            list.Add(new Lcore(id, id, i == 0));
        }

        All = list;
        threads = new Thread?[LcoreId.MaxLcores];
        results = new int[LcoreId.MaxLcores];
        failures = new Exception?[LcoreId.MaxLcores];
    }

    public IReadOnlyList<Lcore> All { get; }

    /// <summary>The main lcore (the first listed): the control thread and the application's main code run there.</summary>
    public Lcore Main => All[0];

    /// <summary>The worker lcores (all but the main one).</summary>
    public IReadOnlyList<Lcore> Workers => [.. All.Skip(1)];

    /// <summary>Runs <paramref name="work"/> on lcore <paramref name="lcoreId"/>'s pinned thread.</summary>
    public void Launch(int lcoreId, Func<int> work, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        var lcore = All.FirstOrDefault(l => l.Id == lcoreId)
            ?? throw new ArgumentException($"lcore {lcoreId} is not in this runtime's core list ({string.Join(",", All.Select(l => l.Id))})", nameof(lcoreId));
        if (threads[lcoreId] is { IsAlive: true })
        {
            throw new InvalidOperationException($"lcore {lcoreId} is busy");
        }

        var t = new Thread(() => Run(lcore, work))
        {
            IsBackground = true,
            Name = name ?? $"lcore-{lcoreId}",
            Priority = ThreadPriority.AboveNormal,
        };
        threads[lcoreId] = t;
        failures[lcoreId] = null;
        results[lcoreId] = 0; // Wait must not return an earlier run's result
        t.Start();
    }

    /// <summary>Waits for lcore <paramref name="lcoreId"/>'s function and returns its result; rethrows what it threw.</summary>
    public int Wait(int lcoreId)
    {
        if ((uint)lcoreId >= (uint)threads.Length || All.All(l => l.Id != lcoreId))
        {
            throw new ArgumentException($"lcore {lcoreId} is not in this runtime's core list ({string.Join(",", All.Select(l => l.Id))})", nameof(lcoreId));
        }

        threads[lcoreId]?.Join();
        threads[lcoreId] = null;
        if (failures[lcoreId] is { } ex)
        {
            throw new InvalidOperationException($"lcore {lcoreId} failed: {ex.Message}", ex);
        }

        return results[lcoreId];
    }

    /// <summary>Waits for every launched lcore.</summary>
    public void WaitAll()
    {
        foreach (var l in All)
        {
            Wait(l.Id);
        }
    }

    private void Run(Lcore lcore, Func<int> work)
    {
        var pin = CpuAffinity.PinCurrentThread(lcore.Cpu);
        if (!pin.IsSuccess)
        {
            LogPinFailed(logger, lcore.Id, lcore.Cpu, pin.Error);
        }

        LcoreId.SetCurrent(lcore.Id);
        try
        {
            results[lcore.Id] = work();
        }
        catch (Exception ex)
        {
            failures[lcore.Id] = ex;
            LogFailed(logger, ex, lcore.Id);
        }
        finally
        {
            LcoreId.SetCurrent(-1);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "lcore {Lcore}: could not pin to CPU {Cpu}: {Error}")]
    private static partial void LogPinFailed(ILogger logger, int lcore, int cpu, Errno error);

    [LoggerMessage(Level = LogLevel.Error, Message = "lcore {Lcore}: function failed")]
    private static partial void LogFailed(ILogger logger, Exception ex, int lcore);
}
