using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Hyperlane.Linux;

namespace Hyperlane.Testing;

/// <summary>
/// A network namespace a test makes for itself (unique name, torn down on dispose even when the test
/// failed), with a dedicated thread inside it: <see cref="Run"/> executes code there, so sockets,
/// TAPs and netlink sockets a port opens belong to the namespace. Traffic stays inside it.
/// </summary>
public sealed class NetNamespace : IDisposable
{
    private static int counter;
    private readonly BlockingCollection<Action> work = [];
    private readonly Thread thread;
    private readonly TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int disposed;

    private NetNamespace(string name)
    {
        Name = name;
        thread = new Thread(Loop) { IsBackground = true, Name = "netns-" + name };
        thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    public string Name { get; }

    /// <summary>Creates a namespace named hlt-&lt;pid&gt;-&lt;n&gt;, loopback up, IPv6 off by default for new interfaces.</summary>
    public static NetNamespace Create()
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"hlt-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}");
        IpCommand.Run("netns", "add", name);
        try
        {
            IpCommand.Run("-n", name, "link", "set", "lo", "up");
            IpCommand.Run("netns", "exec", name, "sh", "-c",
                "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6");
            return new NetNamespace(name);
        }
        catch
        {
            IpCommand.Run("netns", "del", name);
            throw;
        }
    }

    /// <summary>A unique interface name (at most 15 characters) starting with <paramref name="prefix"/>.</summary>
    public static string UniqueIfName(string prefix = "hl")
    {
        string suffix = Guid.NewGuid().ToString("N")[..(15 - Math.Min(prefix.Length, 7))];
        return (prefix.Length > 7 ? prefix[..7] : prefix) + suffix[..Math.Min(suffix.Length, 8)];
    }

    /// <summary>Runs <paramref name="action"/> on the namespace's thread and waits; its exception is rethrown here.</summary>
    public void Run(Action action) => Run(() =>
    {
        action();
        return 0;
    });

    /// <summary>Runs <paramref name="func"/> on the namespace's thread and returns its result.</summary>
    public T Run<T>(Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (Thread.CurrentThread == thread)
        {
            return func();
        }

        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                done.SetResult(func());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    /// <summary>Runs <c>ip -n NAME args...</c> and returns its output.</summary>
    public string Ip(params string[] args) => IpCommand.Run(["-n", Name, .. args]);

    /// <summary>Adds a veth pair with unique names, optional MACs, both up; returns the names.</summary>
    public (string A, string B) AddVethPair(string? macA = null, string? macB = null, int? mtu = null)
    {
        string a = UniqueIfName("hva"), b = UniqueIfName("hvb");
        Ip("link", "add", a, "type", "veth", "peer", "name", b);
        foreach (var (name, mac) in new[] { (a, macA), (b, macB) })
        {
            if (mac is not null)
            {
                Ip("link", "set", name, "address", mac);
            }

            if (mtu is { } m)
            {
                Ip("link", "set", name, "mtu", m.ToString(CultureInfo.InvariantCulture));
            }

            Ip("link", "set", name, "up");
        }

        return (a, b);
    }

    /// <summary>Adds a TAP with a unique name (persistent until deleted or the namespace goes), up; returns its name.</summary>
    public string AddTap(string? mac = null)
    {
        string name = UniqueIfName("hlt");
        Ip("tuntap", "add", "dev", name, "mode", "tap");
        if (mac is not null)
        {
            Ip("link", "set", name, "address", mac);
        }

        Ip("link", "set", name, "up");
        return name;
    }

    /// <summary>Adds an address (CIDR, e.g. 192.0.2.1/24: use TEST-NET ranges only) to an interface.</summary>
    public void AddAddress(string ifname, string cidr) => Ip("addr", "add", cidr, "dev", ifname);

    /// <summary>Adds a route inside the namespace (e.g. "198.51.100.0/24", via "192.0.2.2").</summary>
    public void AddRoute(string destination, string? via = null, string? dev = null)
    {
        var args = new List<string> { "route", "add", destination };
        if (via is not null)
        {
            args.AddRange(["via", via]);
        }

        if (dev is not null)
        {
            args.AddRange(["dev", dev]);
        }

        Ip([.. args]);
    }

    public void SetUp(string ifname) => Ip("link", "set", ifname, "up");

    public void SetDown(string ifname) => Ip("link", "set", ifname, "down");

    public void DeleteLink(string ifname) => Ip("link", "del", ifname);

    public bool LinkExists(string ifname) => Run(() => Syscalls.InterfaceIndex(ifname).IsSuccess);

    /// <summary>The interface's index inside the namespace; throws when it does not exist.</summary>
    public int IfIndex(string ifname) =>
        (int)Run(() => Syscalls.InterfaceIndex(ifname)).ThrowIfFailed($"if_nametoindex({ifname}) in {Name}");

    /// <summary>The kernel's packet counters of an interface (ip -s -j link show).</summary>
    public (long RxPackets, long TxPackets, long RxDropped, long TxDropped) Counters(string ifname)
    {
        using var doc = JsonDocument.Parse(Ip("-s", "-j", "link", "show", "dev", ifname));
        var stats = doc.RootElement[0].GetProperty("stats64");
        var rx = stats.GetProperty("rx");
        var tx = stats.GetProperty("tx");
        return (rx.GetProperty("packets").GetInt64(), tx.GetProperty("packets").GetInt64(), rx.GetProperty("dropped").GetInt64(), tx.GetProperty("dropped").GetInt64());
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        work.CompleteAdding();
        thread.Join(TimeSpan.FromSeconds(5));
        try
        {
            IpCommand.Run("netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing to leave behind.
        }

        work.Dispose();
    }

    private void Loop()
    {
        try
        {
            var r = Syscalls.Open("/var/run/netns/" + Name, Syscalls.O_RDONLY, out SafeFd? fd);
            r.ThrowIfFailed($"open /var/run/netns/{Name}");
            using (fd)
            {
                Syscalls.SetNs(fd!.Fd, Syscalls.CLONE_NEWNET).ThrowIfFailed($"setns into {Name}");
            }

            entered.SetResult();
        }
        catch (Exception ex)
        {
            entered.SetException(ex);
            return;
        }

        foreach (var item in work.GetConsumingEnumerable())
        {
            item();
        }
    }
}
