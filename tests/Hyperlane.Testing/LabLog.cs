using System.Globalization;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Testing;

/// <summary>Keeps the runtime's log lines (with the time since the lab started) to print after the test.</summary>
public sealed class LabLog : ILoggerFactory
{
    private const int MaxLines = 20_000;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly long start = Stopwatch.GetTimestamp();

    public IEnumerable<string> Tail(int count) => lines.Skip(Math.Max(0, lines.Count - count));

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lines.Enqueue(line);
        while (lines.Count > MaxLines && lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(LabLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            double ms = LabFrames.Ms(Stopwatch.GetTimestamp() - log.start);
            string text = string.Create(CultureInfo.InvariantCulture, $"{ms,9:0.0} ms {logLevel,-11} {category}: {formatter(state, exception)}");
            if (exception is not null)
            {
                text += " | " + exception.GetType().Name + ": " + exception.Message;
            }

            log.Add(text);
        }
    }
}
