namespace Hyperlane.Core.Devices;

/// <summary>Drivers known to a runtime, looked up by device-name prefix.</summary>
public sealed class DriverRegistry
{
    private readonly List<IVdevDriver> drivers = [];
    private readonly Lock sync = new();

    public IReadOnlyList<IVdevDriver> Drivers
    {
        get
        {
            lock (sync)
            {
                return [.. drivers];
            }
        }
    }

    /// <summary>Adds a driver; its name and aliases must be new.</summary>
    public void Register(IVdevDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        lock (sync)
        {
            foreach (var prefix in Prefixes(driver))
            {
                if (drivers.Any(d => Prefixes(d).Contains(prefix, StringComparer.Ordinal)))
                {
                    throw new InvalidOperationException($"a driver named '{prefix}' is already registered");
                }
            }

            drivers.Add(driver);
        }
    }

    /// <summary>
    /// The driver for <paramref name="deviceName"/>: the one whose name or alias is the longest prefix of it
    /// (DPDK's vdev matching, so "net_failsafe_vsc0" goes to net_failsafe and "net_tap_vsc0" to net_tap).
    /// </summary>
    public IVdevDriver? Match(string deviceName)
    {
        IVdevDriver? best = null;
        int bestLength = -1;
        lock (sync)
        {
            foreach (var d in drivers)
            {
                foreach (var prefix in Prefixes(d))
                {
                    if (prefix.Length > bestLength && deviceName.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        best = d;
                        bestLength = prefix.Length;
                    }
                }
            }
        }

        return best;
    }

    private static IEnumerable<string> Prefixes(IVdevDriver d) => d.Aliases.Prepend(d.Name);
}
