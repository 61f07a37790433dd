using System.Diagnostics;
using Hyperlane.Linux;

namespace Hyperlane.Testing;

/// <summary>
/// A thread reading a <see cref="KernelPort"/> and recording every lab frame with the <see cref="Stopwatch"/>
/// time <see cref="KernelPort.ReceiveTimed"/> read it at (the same clock the Tx thread stamps frames with).
/// A socket error (ENETDOWN when the interface goes down or is deleted) is counted and reading goes on: what
/// was queued before it is still read.
/// </summary>
public sealed class FrameSink : IDisposable
{
    private readonly KernelPort port;
    private readonly Thread thread;
    private readonly List<SeenFrame> frames = [];
    private volatile bool stop;
    private long idleAt;
    private int errors;
    private int disposed;

    public FrameSink(KernelPort port)
    {
        this.port = port;
        thread = new Thread(Loop) { IsBackground = true, Name = "sink-" + port.InterfaceName };
        thread.Start();
    }

    public string InterfaceName => port.InterfaceName;

    public int Errors => Volatile.Read(ref errors);

    public int Count
    {
        get
        {
            lock (frames)
            {
                return frames.Count;
            }
        }
    }

    /// <summary>The last time a read found the socket empty: everything that arrived before it has been recorded.</summary>
    public long IdleAt => Interlocked.Read(ref idleAt);

    public SeenFrame? Last
    {
        get
        {
            lock (frames)
            {
                return frames.Count > 0 ? frames[^1] : null;
            }
        }
    }

    /// <summary>The first frame read after <paramref name="timestamp"/> with a sequence number above <paramref name="afterSeq"/>.</summary>
    public SeenFrame? FirstAfter(long timestamp, long afterSeq = long.MinValue)
    {
        lock (frames)
        {
            foreach (var f in frames)
            {
                if (f.RxTimestamp > timestamp && f.Seq > afterSeq)
                {
                    return f;
                }
            }

            return null;
        }
    }

    /// <summary>Frames read after <paramref name="timestamp"/>.</summary>
    public int CountAfter(long timestamp)
    {
        lock (frames)
        {
            return frames.Count(f => f.RxTimestamp > timestamp);
        }
    }

    /// <summary>Frames read whose Tx timestamp lies in [<paramref name="from"/>, <paramref name="to"/>]: where the frames sent in that window went.</summary>
    public int CountSentBetween(long from, long to)
    {
        lock (frames)
        {
            return frames.Count(f => f.TxTimestamp >= from && f.TxTimestamp <= to);
        }
    }

    /// <summary>Waits until everything that arrived up to now has been read.</summary>
    public void Settle()
    {
        long now = Stopwatch.GetTimestamp();
        Wait.Until(() => IdleAt > now, () => $"the reader on {InterfaceName} never found its socket empty");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stop = true;
        thread.Join();
        port.Dispose();
    }

    private void Loop()
    {
        while (!stop)
        {
            try
            {
                var r = port.ReceiveTimed(TimeSpan.FromMilliseconds(20));
                if (r is not { } got)
                {
                    Interlocked.Exchange(ref idleAt, Stopwatch.GetTimestamp());
                    continue;
                }

                if (LabFrames.TryParse(got.Frame, out ushort sport, out long seq, out long ts))
                {
                    lock (frames)
                    {
                        frames.Add(new SeenFrame(got.Timestamp, seq, ts, sport));
                    }
                }
            }
            catch (LinuxException)
            {
                Interlocked.Increment(ref errors); // ENETDOWN once when the interface goes down; queued frames still come
            }
        }
    }
}
