using System.Collections.Concurrent;
using System.Diagnostics;
using Hyperlane.Linux.Netlink;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests.Netlink;

public class LinkMonitorTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    [SkippableFact]
    public void Reports_new_changed_and_deleted_links()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, b) = ns.AddVethPair();
        int aIndex = ns.IfIndex(a);
        using var monitor = ns.Run(() => new LinkMonitor());
        var events = new BlockingCollection<(LinkEventArgs Args, long At)>();
        monitor.LinkChanged += (_, e) => events.Add((e, Stopwatch.GetTimestamp()));

        ns.SetDown(a);
        var down = Next(events, e => e.Index == aIndex && !e.IsUp);
        Assert.Equal(LinkEventKind.Changed, down.Kind);
        Assert.Equal(a, down.Name);
        Assert.False(down.HasCarrier);

        ns.SetUp(a);
        var up = Next(events, e => e.Index == aIndex && e.IsUp && e.HasCarrier);
        Assert.Equal(LinkEventKind.Changed, up.Kind);

        var (c, d) = ns.AddVethPair();
        var first = new Dictionary<string, LinkEventKind>();
        while (first.Count < 2)
        {
            var e = Next(events, e => e.Name == c || e.Name == d);
            first.TryAdd(e.Name, e.Kind);
        }

        Assert.Equal(LinkEventKind.New, first[c]); // the first event of each new link is New
        Assert.Equal(LinkEventKind.New, first[d]);

        while (events.TryTake(out _))
        {
        }

        ns.DeleteLink(c);
        long deletedAt = Stopwatch.GetTimestamp();
        var (deleted, seenAt) = NextTimed(events, e => e.Name == c && e.Kind == LinkEventKind.Deleted);
        Assert.Equal(LinkEventKind.Deleted, deleted.Kind);
        Assert.True(Stopwatch.GetElapsedTime(deletedAt, seenAt) < TimeSpan.FromMilliseconds(100), $"Deleted seen {Stopwatch.GetElapsedTime(deletedAt, seenAt).TotalMilliseconds:0.0} ms after ip returned");
        Next(events, e => e.Name == d && e.Kind == LinkEventKind.Deleted);
        Assert.True(monitor.Events >= 6);
        Assert.Equal(0, monitor.HandlerFailures);
        Assert.Equal(0, monitor.MalformedMessages);
        _ = b;
    }

    [SkippableFact]
    public void Handler_exceptions_are_counted_and_other_handlers_still_run()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        using var monitor = ns.Run(() => new LinkMonitor());
        var events = new BlockingCollection<(LinkEventArgs Args, long At)>();
        monitor.LinkChanged += (_, _) => throw new InvalidOperationException("handler bug");
        monitor.LinkChanged += (_, e) => events.Add((e, Stopwatch.GetTimestamp()));

        ns.SetDown(a);
        Next(events, e => e.Name == a && !e.IsUp);
        ns.SetUp(a);
        Next(events, e => e.Name == a && e.IsUp);
        Assert.True(monitor.HandlerFailures >= 2);
        Assert.True(monitor.HandlerFailures <= monitor.Events);
    }

    [SkippableFact]
    public void Dispose_from_a_handler_stops_the_monitor()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        var (a, _) = ns.AddVethPair();
        var monitor = ns.Run(() => new LinkMonitor());
        using var disposed = new ManualResetEventSlim();
        monitor.LinkChanged += (_, _) =>
        {
            monitor.Dispose();
            disposed.Set();
        };

        ns.SetDown(a);
        Assert.True(disposed.Wait(Wait));
        monitor.Dispose();
    }

    [SkippableFact]
    public void Crafted_notifications_are_counted_not_thrown()
    {
        Requires.NetNamespaces();
        using var ns = NetNamespace.Create();
        using var monitor = ns.Run(() => new LinkMonitor());
        var seen = new ConcurrentQueue<LinkEventArgs>();
        monitor.LinkChanged += (_, e) => seen.Enqueue(e);

        monitor.Process(NetlinkCraft.Link(Nl.RTM_NEWLINK, 4242, "crafted0", up: true));
        monitor.Process(NetlinkCraft.Link(Nl.RTM_DELLINK, 4242, "crafted0", up: false));
        Assert.Equal(new[] { LinkEventKind.New, LinkEventKind.Deleted }, seen.Select(e => e.Kind));

        foreach (byte[] bad in NetlinkCraft.Malformed())
        {
            monitor.Process(bad);
        }

        Assert.Equal(2, seen.Count);
        Assert.True(monitor.MalformedMessages >= NetlinkCraft.Malformed().Count() - 1);
    }

    private static LinkEventArgs Next(BlockingCollection<(LinkEventArgs Args, long At)> events, Func<LinkEventArgs, bool> match) =>
        NextTimed(events, match).Args;

    private static (LinkEventArgs Args, long At) NextTimed(BlockingCollection<(LinkEventArgs Args, long At)> events, Func<LinkEventArgs, bool> match)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Wait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, (double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency));
            Assert.True(events.TryTake(out var item, left), "no matching link event within " + Wait);
            if (match(item.Args))
            {
                return item;
            }
        }
    }
}
