using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;

namespace Hyperlane.Core.Tests;

/// <summary>
/// A vdev driver that makes <see cref="TestEthDev"/> ports. Devargs: <c>ports</c> (how many ports, named
/// <c>&lt;device&gt;</c> then <c>&lt;device&gt;_1</c>...), <c>fail</c> (Probe throws InvalidOperationException),
/// <c>second</c> (names the second port, to collide with an existing one).
/// </summary>
public sealed class TestDriver : IVdevDriver
{
    private readonly List<TestEthDev> created = [];

    public TestDriver(string name = TestEthDev.DefaultDriverName, params string[] aliases)
    {
        Name = name;
        Aliases = aliases;
        Schema = new DevargsSchema(name)
            .Int("ports", min: 1, max: 4, @default: 1)
            .Bool("fail")
            .String("second", maxLength: 32);
    }

    public string Name { get; }

    public IReadOnlyList<string> Aliases { get; }

    public string Description => "test ports with in-memory queues";

    public DevargsSchema Schema { get; }

    /// <summary>Thrown by the next probes while set.</summary>
    public Exception? ProbeFailure { get; set; }

    public IReadOnlyList<TestEthDev> Created => created;

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ProbeFailure is { } failure)
        {
            throw failure;
        }

        if (context.Values.GetBool("fail"))
        {
            throw new InvalidOperationException("the test driver was told to fail");
        }

        int n = (int)context.Values.GetInt("ports");
        var ports = new List<EthDev>();
        for (int i = 0; i < n; i++)
        {
            string name = i == 0 ? context.DeviceName : i == 1 && context.Values.GetString("second") is { } second ? second : $"{context.DeviceName}_{i}";
            var dev = new TestEthDev(name, driverName: Name);
            created.Add(dev);
            ports.Add(dev);
        }

        return ports;
    }
}
