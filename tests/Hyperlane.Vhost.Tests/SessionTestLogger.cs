using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Vhost.Tests;

/// <summary>An <see cref="ILogger"/> that keeps every line (level and formatted text) for the session tests to look at.</summary>
internal sealed class SessionTestLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string text = formatter(state, exception);
        if (exception is not null)
        {
            text += " | " + exception.GetType().Name + ": " + exception.Message;
        }

        _lines.Enqueue((logLevel, text));
    }

    public bool Contains(string text, LogLevel minimum = LogLevel.Trace) =>
        _lines.Any(l => l.Level >= minimum && l.Text.Contains(text, StringComparison.Ordinal));

    public int Count(string text) => _lines.Count(l => l.Text.Contains(text, StringComparison.Ordinal));

    public override string ToString() => string.Join(Environment.NewLine, _lines.Select(l => $"{l.Level}: {l.Text}"));
}
