using Microsoft.Extensions.Logging;

namespace Hyperlane.Cli;

/// <summary>Maps DPDK's --log-level values (a number 1-8, a level name, or pattern:level) to a minimum log level.</summary>
public static class LogLevels
{
    public static LogLevel Parse(IReadOnlyList<string> values, LogLevel fallback)
    {
        ArgumentNullException.ThrowIfNull(values);
        var level = fallback;
        foreach (var v in values)
        {
            string word = v.Contains(':', StringComparison.Ordinal) ? v[(v.LastIndexOf(':') + 1)..] : v;
            if (word.Contains('=', StringComparison.Ordinal))
            {
                word = word[(word.LastIndexOf('=') + 1)..];
            }

            level = word.ToLowerInvariant() switch
            {
                "1" or "2" or "3" or "emerg" or "alert" or "crit" or "critical" => LogLevel.Critical,
                "4" or "err" or "error" => LogLevel.Error,
                "5" or "warning" or "warn" => LogLevel.Warning,
                "6" or "7" or "notice" or "info" => LogLevel.Information,
                "8" or "debug" => LogLevel.Debug,
                _ => throw new TestPmd.CommandLineException($"--log-level: '{v}' is not a level (1-8, debug, info, notice, warning, error, crit; optionally <pattern>:<level>)"),
            };
        }

        return level;
    }
}
