using System.Diagnostics;

namespace Hyperlane.Linux.Unix;

/// <summary>A point in time a wait must end by, from a <see cref="TimeSpan"/> timeout (infinite allowed).</summary>
internal readonly struct Deadline
{
    private readonly long _end; // Stopwatch ticks; long.MaxValue when infinite

    private Deadline(long end) => _end = end;

    public bool IsInfinite => _end == long.MaxValue;

    /// <summary>
    /// Starts a deadline <paramref name="timeout"/> from now. <see cref="Timeout.InfiniteTimeSpan"/> never
    /// expires; any other negative value is an error.
    /// </summary>
    public static Deadline Start(TimeSpan timeout, string parameterName)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return new Deadline(long.MaxValue);
        }

        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, timeout, "a timeout is zero or positive, or Timeout.InfiniteTimeSpan");
        }

        double ticks = timeout.TotalSeconds * Stopwatch.Frequency;
        long now = Stopwatch.GetTimestamp();
        return new Deadline(ticks >= long.MaxValue - now ? long.MaxValue - 1 : now + (long)ticks);
    }

    /// <summary>
    /// Milliseconds left, rounded up so a poll does not wake before the deadline; -1 when infinite, 0 when
    /// expired, at most int.MaxValue.
    /// </summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite)
            {
                return -1;
            }

            long left = _end - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return 0;
            }

            double ms = Math.Ceiling(left * 1000.0 / Stopwatch.Frequency);
            return ms >= int.MaxValue ? int.MaxValue : (int)ms;
        }
    }
}
