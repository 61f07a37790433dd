using Hyperlane.Core.Ports;
using Hyperlane.Testing;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>Records a port's events (raised on the drivers' threads) for a test to wait on and check.</summary>
internal sealed class EventLog : IDisposable
{
    private readonly EthDev port;
    private readonly List<EthDevEventArgs> events = [];

    public EventLog(EthDev port)
    {
        this.port = port;
        port.EventRaised += OnEvent;
    }

    public IReadOnlyList<EthDevEventArgs> All
    {
        get
        {
            lock (events)
            {
                return [.. events];
            }
        }
    }

    /// <summary>The link-status events as "up" or "down" (the first word of their detail), in order.</summary>
    public IReadOnlyList<string> Links =>
        [.. All.Where(e => e.Type == EthDevEventType.LinkStatusChange).Select(e => (e.Detail ?? "?").Split(':')[0])];

    public string Text => string.Join(" | ", All.Select(e => e.ToString()));

    /// <summary>Waits (generously) until the link events are exactly <paramref name="expected"/>.</summary>
    public void WaitForLinks(params string[] expected) =>
        Wait.Until(() => Links.SequenceEqual(expected), () => $"{port.Name}: link events [{string.Join(", ", expected)}] expected, seen: {Text}", VhostLab.Timeout);

    public void Clear()
    {
        lock (events)
        {
            events.Clear();
        }
    }

    public void Dispose() => port.EventRaised -= OnEvent;

    private void OnEvent(object? sender, EthDevEventArgs e)
    {
        lock (events)
        {
            events.Add(e);
        }
    }
}
