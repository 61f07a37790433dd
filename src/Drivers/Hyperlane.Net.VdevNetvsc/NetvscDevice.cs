using Hyperlane.Core;
using Hyperlane.Core.Runtime;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;
using Hyperlane.Net.Failsafe;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// What a <c>net_vdev_netvsc</c> device runs after its probe: one failsafe port per NetVSC netdev, and the VF
/// check that feeds each port its VF. The check runs on the control thread, every <c>vf_poll</c> ms and at once
/// on any netlink link event (so a new VF is in use within milliseconds, and a renamed or re-created one is found
/// again); it also runs when a failsafe port is configured, since the VF sub-device is probed with the port's
/// queue count. The VF line is written only while the port's preferred slot is empty, and the port's upkeep is
/// run right after, instead of DPDK's line every second that the failsafe port reads at its next poll.
/// A vanished VF leaves through the failsafe port itself (af_packet's removal event and its own netlink watch).
/// Disposing it removes the failsafe ports and stops the check.
/// </summary>
public sealed partial class NetvscDevice : IDisposable
{
    private readonly HyperlaneRuntime runtime;
    private readonly ILogger logger;
    private readonly NetvscDiscovery discovery;
    private readonly RtNetlink rtnl;
    private readonly List<NetvscPortContext> contexts = [];
    private readonly Action<NetvscDevice> onDisposed;
    private readonly Lock sync = new();
    private LinkMonitor? monitor;
    private Alarm? alarm;
    private int checkPosted;
    private bool disposed;
    private string? lastCheckError;
    private long checks;
    private long checkFailures;

    internal NetvscDevice(string name, HyperlaneRuntime runtime, ILogger logger, NetvscDiscovery discovery, RtNetlink rtnl, TimeSpan vfPoll, Action<NetvscDevice> onDisposed)
    {
        this.onDisposed = onDisposed;
        Name = name;
        this.runtime = runtime;
        this.logger = logger;
        this.discovery = discovery;
        this.rtnl = rtnl;
        VfPoll = vfPoll;
    }

    /// <summary>The vdev name, e.g. net_vdev_netvsc0.</summary>
    public string Name { get; }

    /// <summary>How often the VF check runs without a netlink event.</summary>
    public TimeSpan VfPoll { get; }

    /// <summary>The netdevs attached to, in probe order.</summary>
    public IReadOnlyList<NetvscPortContext> Contexts
    {
        get
        {
            lock (sync)
            {
                return [.. contexts];
            }
        }
    }

    /// <summary>VF checks run so far.</summary>
    public long Checks => Interlocked.Read(ref checks);

    /// <summary>VF checks that could not read the kernel's links.</summary>
    public long CheckFailures => Interlocked.Read(ref checkFailures);

    /// <summary>Probes the failsafe port of <paramref name="target"/> (its VF is fed once the port is configured).</summary>
    internal NetvscPortContext Attach(int id, NetvscTarget target)
    {
        var feed = VfFeed.Create();
        var ctx = new NetvscPortContext(id, target, feed);
        try
        {
            string devargs = ctx.FailsafeDevargs(feed.ReadEnd!.Fd);
            LogAttaching(logger, Name, target.Name, target.IfIndex, target.Mac.ToString(), devargs);
            var device = runtime.Vdev.Probe(devargs);
            ctx.Port = device.Ports.OfType<FailsafeEthDev>().Single();
            feed.CloseReadEnd(); // the failsafe port holds its own duplicate
        }
        catch
        {
            feed.Dispose();
            throw;
        }

        ctx.Port.Configured += OnConfigured;
        lock (sync)
        {
            contexts.Add(ctx);
        }

        return ctx;
    }

    /// <summary>Starts the netlink watch (in the calling thread's network namespace) and the periodic check, and runs one check.</summary>
    internal void Start()
    {
        try
        {
            var m = new LinkMonitor();
            m.LinkChanged += OnLinkChanged;
            monitor = m;
        }
        catch (Exception ex) when (ex is LinuxException or IOException)
        {
            LogNoMonitor(logger, ex, Name, VfPoll.TotalMilliseconds);
        }

        alarm = runtime.Control.SetPeriodic(Name + " VF check", VfPoll, Check);
        Check();
    }

    /// <summary>Looks for each netdev's VF now and feeds it to the failsafe port when its preferred slot is empty. Runs the port's upkeep after a feed.</summary>
    public void Check()
    {
        Interlocked.Exchange(ref checkPosted, 0);
        var fed = new List<FailsafeEthDev>();
        lock (sync)
        {
            if (disposed || runtime.IsShuttingDown)
            {
                return;
            }

            Interlocked.Increment(ref checks);
            IReadOnlyList<LinkInfo> links;
            try
            {
                links = rtnl.DumpLinks();
            }
            catch (Exception ex) when (ex is LinuxException or NetlinkException or TimeoutException or IOException)
            {
                Interlocked.Increment(ref checkFailures);
                if (lastCheckError != ex.Message)
                {
                    lastCheckError = ex.Message;
                    LogCheckFailed(logger, ex, Name);
                }

                return;
            }

            lastCheckError = null;
            foreach (var ctx in contexts)
            {
                if (CheckOne(ctx, links) is { } port)
                {
                    fed.Add(port);
                }
            }
        }

        // Outside the lock: the upkeep probes the VF sub-device (and Dispose may be removing the port meanwhile).
        foreach (var port in fed)
        {
            port.RunUpkeep();
        }
    }

    private FailsafeEthDev? CheckOne(NetvscPortContext ctx, IReadOnlyList<LinkInfo> links)
    {
        if (ctx.Port is not { } port || port.State == Core.Ports.EthDevState.Closed)
        {
            return null;
        }

        if (links.FirstOrDefault(l => l.Index == ctx.NetdevIndex) is { } self && self.Name != ctx.NetdevName)
        {
            LogNetdevRenamed(logger, Name, ctx.NetdevName, self.Name, ctx.NetdevIndex);
            ctx.NetdevName = self.Name;
        }

        NetvscVf? vf = discovery.FindVf(ctx.Mac, ctx.NetdevIndex, links);
        if (vf?.IfIndex != ctx.Vf?.IfIndex || vf?.Name != ctx.Vf?.Name)
        {
            if (vf is null)
            {
                ctx.VfDepartures++;
                LogVfGone(logger, Name, ctx.NetdevName, ctx.Vf!.Name, ctx.Vf.IfIndex);
            }
            else
            {
                ctx.VfArrivals++;
                LogVfFound(logger, Name, ctx.NetdevName, vf.Name, vf.IfIndex, vf.PciAddress, vf.DriverText, vf.IsEnslaved);
            }
        }

        ctx.Vf = vf;

        int queuePairs = Math.Max(port.RxQueueCount, port.TxQueueCount);
        if (vf is null || queuePairs == 0 || ctx.FeedBroken || port.GetSubDeviceState(0) != SubDeviceState.Undefined)
        {
            return null; // no VF, the port is not configured yet, or the slot is busy (probing, or the VF already in use)
        }

        string line = ctx.VfLine(vf, queuePairs);
        switch (ctx.Feed.Write(line))
        {
            case VfFeedResult.Written:
                if (line != ctx.LastLine)
                {
                    LogFed(logger, Name, ctx.FailsafeName, line);
                }

                ctx.LastLine = line;
                return port;
            case VfFeedResult.Full:
                LogFeedFull(logger, Name, ctx.FailsafeName);
                return null;
            case VfFeedResult.Short:
                LogFeedShort(logger, Name, ctx.FailsafeName);
                return null;
            default:
                ctx.FeedBroken = true;
                LogFeedFailed(logger, Name, ctx.FailsafeName);
                return null;
        }
    }

    private void OnConfigured(object? sender, EventArgs e) => RequestCheck();

    private void OnLinkChanged(object? sender, LinkEventArgs e) => RequestCheck();

    private void RequestCheck()
    {
        if (!Volatile.Read(ref disposed) && Interlocked.Exchange(ref checkPosted, 1) == 0)
        {
            runtime.Control.Post(Name + " VF check (event)", Check);
        }
    }

    /// <summary>Stops the check and removes the failsafe ports (with their sub-devices).</summary>
    public void Dispose()
    {
        List<NetvscPortContext> all;
        lock (sync)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            all = [.. contexts];
        }

        alarm?.Cancel();
        monitor?.Dispose();
        foreach (var ctx in all)
        {
            if (ctx.Port is { } port)
            {
                port.Configured -= OnConfigured;
            }

            try
            {
                runtime.Vdev.Remove(ctx.FailsafeName);
            }
            catch (Exception ex)
            {
                LogRemoveFailed(logger, ex, Name, ctx.FailsafeName);
            }

            ctx.Feed.Dispose();
        }

        rtnl.Dispose();
        onDisposed(this);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: {Netdev} (ifindex {IfIndex}, MAC {Mac}): probing {Devargs}")]
    private static partial void LogAttaching(ILogger logger, string device, string netdev, int ifIndex, string mac, string devargs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: no netlink link watch ({PollMs} ms VF polling only)")]
    private static partial void LogNoMonitor(ILogger logger, Exception ex, string device, double pollMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: VF check cannot list the kernel's links")]
    private static partial void LogCheckFailed(ILogger logger, Exception ex, string device);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: NetVSC netdev {Old} (ifindex {IfIndex}) is now called {New}")]
    private static partial void LogNetdevRenamed(ILogger logger, string device, string old, string @new, int ifIndex);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: {Netdev}: VF {Vf} (ifindex {IfIndex}, PCI {Pci}, driver {Driver}, enslaved {Enslaved})")]
    private static partial void LogVfFound(ILogger logger, string device, string netdev, string vf, int ifIndex, string pci, string driver, bool enslaved);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: {Netdev}: VF {Vf} (ifindex {IfIndex}) is gone; traffic goes through the TAP fallback")]
    private static partial void LogVfGone(ILogger logger, string device, string netdev, string vf, int ifIndex);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device}: {Port} gets '{Line}'")]
    private static partial void LogFed(ILogger logger, string device, string port, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: the pipe to {Port} is full; the VF is fed again at the next check")]
    private static partial void LogFeedFull(ILogger logger, string device, string port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: short write into the pipe to {Port}; the piece was cut off with a newline and the VF is fed again at the next check")]
    private static partial void LogFeedShort(ILogger logger, string device, string port);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Device}: cannot write into the pipe to {Port} (the port closed its end?); no VF is fed to it any more")]
    private static partial void LogFeedFailed(ILogger logger, string device, string port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device}: removing {Port} failed")]
    private static partial void LogRemoveFailed(ILogger logger, Exception ex, string device, string port);
}
