using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Packets;

namespace Hyperlane.Net.Failsafe;

/// <summary>
/// <c>net_failsafe</c>: a port that survives its sub-devices coming and going. Devargs: <c>dev(devargs)</c>,
/// <c>exec(command)</c>, <c>fd(n)</c> (1 to 8 sub-devices in all, the first listed preferred), <c>mac</c>,
/// <c>hotplug_poll</c> (ms, per port, default 2000).
/// </summary>
public sealed class FailsafeDriver : IVdevDriver
{
    public const string DriverName = FailsafeEthDev.DriverNameConst;

    /// <summary>Most sub-devices per failsafe port (DPDK allows 2).</summary>
    public const int MaxSubDevices = 8;

    private static readonly string[] SourceKeys = ["dev", "exec", "fd"];

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_failsafe"];

    public string Description => "one port over sub-devices that come and go (VF + fallback)";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .Parenthesized("dev", repeatable: true, max: MaxSubDevices)
        .Parenthesized("exec", repeatable: true, max: MaxSubDevices)
        .Parenthesized("fd", repeatable: true, max: MaxSubDevices)
        .Mac("mac")
        .Int("hotplug_poll", min: 1, max: 86_400_000, @default: 2000);

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string name = context.DeviceName;
        var items = context.Devargs.Items.Where(i => SourceKeys.Contains(i.Key, StringComparer.Ordinal)).ToList();
        if (items.Count == 0)
        {
            throw new DevargsException(name, null, "at least one sub-device is needed: dev(<devargs>), exec(<command>) or fd(<n>)");
        }

        if (items.Count > MaxSubDevices)
        {
            throw new DevargsException(name, null, $"{items.Count} sub-devices given; a failsafe port has at most {MaxSubDevices}");
        }

        MacAddress? mac = null;
        if (context.Values.GetMac("mac") is { } macText)
        {
            var m = MacAddress.Parse(macText);
            if (!m.IsUnicast || m.IsZero)
            {
                throw new DevargsException(name, "mac", $"{macText} is not a unicast address");
            }

            mac = m;
        }

        var sources = new List<SubDeviceSource>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var item in items)
            {
                sources.Add(CreateSource(context, item, names));
            }

            var dev = new FailsafeEthDev(name, context.Runtime, context.Logger, sources, mac, TimeSpan.FromMilliseconds(context.Values.GetInt("hotplug_poll")));
            try
            {
                context.RegisterEarly(dev);
                dev.Initialize();
            }
            catch
            {
                dev.Close(); // tears down the sub-devices probed so far and closes the sources
                throw;
            }

            return [dev];
        }
        catch
        {
            foreach (var s in sources)
            {
                s.Dispose();
            }

            throw;
        }
    }

    private static SubDeviceSource CreateSource(VdevProbeContext context, Core.Devices.DevargsItem item, HashSet<string> names)
    {
        string name = context.DeviceName;
        switch (item.Key)
        {
            case "dev":
                // dev() is fixed configuration: a mistake in it is an error now, not a sub-device that never comes.
                string? error;
                string? devargs = SubDeviceSource.Check(item.Value, context.Runtime.Drivers, name, out error);
                if (devargs is null)
                {
                    throw new DevargsException(name, "dev", item.Position, $"{item}: {error}");
                }

                string subName = Devargs.Parse(devargs).Name;
                if (!names.Add(subName))
                {
                    throw new DevargsException(name, "dev", item.Position, $"{item}: sub-device '{subName}' is given twice");
                }

                return new FixedSource(devargs);
            case "exec":
                if (string.IsNullOrWhiteSpace(item.Value))
                {
                    throw new DevargsException(name, "exec", item.Position, "exec() needs a command");
                }

                return new ExecSource(item.Value);
            default:
                var fd = new FdSource(item.Value.Trim());
                if (!fd.IsNumber)
                {
                    fd.Dispose();
                    throw new DevargsException(name, "fd", item.Position, fd.OpenError!);
                }

                return fd; // an fd that is not open leaves the sub-device absent, with the error logged and counted
        }
    }
}
