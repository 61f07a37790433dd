using System.Diagnostics;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Testing;

/// <summary>
/// A thread that allocates lab frames from the pool and transmits them on queue 0 of a port, a burst of 16
/// about every millisecond, freeing what the port did not take. Counts what was taken.
/// </summary>
public sealed class TxTraffic : IDisposable
{
    public const int Burst = 16;
    private readonly EthDev port;
    private readonly Mempool pool;
    private readonly Thread thread;
    private volatile bool stop;
    private long taken;
    private long offered;
    private Exception? failure;
    private int disposed;

    public TxTraffic(EthDev port, Mempool pool, ushort srcPort = 7000)
    {
        this.port = port;
        this.pool = pool;
        SrcPort = srcPort;
        thread = new Thread(Loop) { IsBackground = true, Name = "tx-" + port.Name };
        thread.Start();
    }

    public ushort SrcPort { get; }

    /// <summary>Packets the port took (TxBurst's return values added up).</summary>
    public long Taken => Interlocked.Read(ref taken);

    public long Offered => Interlocked.Read(ref offered);

    /// <summary>Stops the thread; rethrows what it threw.</summary>
    public void Stop()
    {
        stop = true;
        thread.Join();
        if (failure is { } ex)
        {
            throw new InvalidOperationException("the Tx thread failed: " + ex.Message, ex);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            stop = true;
            thread.Join();
        }
    }

    private void Loop()
    {
        try
        {
            long seq = 0;
            var burst = new Mbuf[Burst];
            while (!stop)
            {
                if (pool.AllocBulk(burst) == 0)
                {
                    Thread.Sleep(1);
                    continue;
                }

                foreach (var m in burst)
                {
                    if (!m.TryAppend(LabFrames.Length, out Span<byte> data))
                    {
                        throw new InvalidOperationException("an mbuf without room for a lab frame");
                    }

                    LabFrames.Build(data, SrcPort, seq++, Stopwatch.GetTimestamp());
                }

                int n = port.TxBurst(0, burst);
                Interlocked.Add(ref taken, n);
                Interlocked.Add(ref offered, Burst);
                if (n < Burst)
                {
                    Mbuf.FreeBulk(burst.AsSpan(n));
                }

                Thread.Sleep(1);
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
    }
}
