using System.Runtime.ExceptionServices;
using Hyperlane.Memory;

namespace Hyperlane.Testing;

/// <summary>Runs test work on a thread that acts as an lcore, as the data path does.</summary>
public static class LcoreThread
{
    /// <summary>
    /// Runs <paramref name="work"/> on a new thread marked as lcore 0 (so mempool caches are used), clears the
    /// mark, and returns its result; its exception is rethrown here.
    /// </summary>
    public static T Run<T>(Func<T> work, string name = "test-lcore-0")
    {
        ArgumentNullException.ThrowIfNull(work);
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            LcoreId.SetCurrent(0);
            try
            {
                result = work();
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                LcoreId.SetCurrent(-1);
            }
        })
        { Name = name };
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        return result;
    }
}
