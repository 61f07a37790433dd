using System.Diagnostics;
using Hyperlane.Linux.Netlink;

namespace Hyperlane.Testing;

/// <summary>The lab's own netlink monitor (create it inside the namespace): when each interface went down and was deleted, by the Stopwatch.</summary>
public sealed class LinkWatch : IDisposable
{
    private readonly LinkMonitor monitor = new();
    private readonly List<(long Timestamp, LinkEventArgs Event)> events = [];

    public LinkWatch() => monitor.LinkChanged += OnLinkChanged;

    /// <summary>When <paramref name="name"/> was first seen down, and deleted, after <paramref name="after"/>.</summary>
    public (long? Down, long? Gone) Find(string name, long after)
    {
        lock (events)
        {
            long? down = null, gone = null;
            foreach (var (ts, e) in events)
            {
                if (ts <= after || e.Name != name)
                {
                    continue;
                }

                if (e.Kind == LinkEventKind.Deleted)
                {
                    gone ??= ts;
                }
                else if (!e.IsUp)
                {
                    down ??= ts;
                }
            }

            return (down, gone);
        }
    }

    /// <summary>When <paramref name="name"/> was first seen (any event), and first seen up with carrier, after <paramref name="after"/>.</summary>
    public (long? Seen, long? Usable) FindUp(string name, long after)
    {
        lock (events)
        {
            long? seen = null, usable = null;
            foreach (var (ts, e) in events)
            {
                if (ts <= after || e.Name != name || e.Kind == LinkEventKind.Deleted)
                {
                    continue;
                }

                seen ??= ts;
                if (e.IsUp && e.HasCarrier)
                {
                    usable ??= ts;
                }
            }

            return (seen, usable);
        }
    }

    public void Dispose()
    {
        monitor.LinkChanged -= OnLinkChanged;
        monitor.Dispose();
    }

    private void OnLinkChanged(object? sender, LinkEventArgs e)
    {
        long now = Stopwatch.GetTimestamp();
        lock (events)
        {
            events.Add((now, e));
        }
    }
}
