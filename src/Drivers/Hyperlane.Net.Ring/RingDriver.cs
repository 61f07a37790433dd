using Hyperlane.Core.Devices;
using Hyperlane.Core.Ports;
using Hyperlane.Memory;

namespace Hyperlane.Net.Ring;

/// <summary>
/// <c>net_ring</c>: ports over lock-free rings in memory. Without arguments a port loops back to itself
/// (its Tx ring is its Rx ring), as DPDK's. With <c>rx=NAME,tx=NAME</c> ports share named rings, so
/// <c>net_ring0,rx=a,tx=b</c> and <c>net_ring1,rx=b,tx=a</c> are a linked pair (see <see cref="CreateLinkedPair"/>).
/// Devargs: <c>rx</c>, <c>tx</c>, <c>size</c> (ring capacity, default 1024). DPDK's <c>nodeaction</c> is refused.
/// </summary>
public sealed class RingDriver : IVdevDriver
{
    public const string DriverName = "net_ring";

    private readonly Dictionary<string, RingSet> rings = new(StringComparer.Ordinal);
    private readonly Lock sync = new();

    public string Name => DriverName;

    public IReadOnlyList<string> Aliases { get; } = ["eth_ring"];

    public string Description => "ports over in-memory rings; named rings link ports together";

    public DevargsSchema Schema { get; } = new DevargsSchema(DriverName)
        .String("rx", maxLength: 64)
        .String("tx", maxLength: 64)
        .Int("size", min: 32, max: 1 << 20, @default: 1024)
        .Unsupported("nodeaction", "name the shared rings with rx=<name>,tx=<name> instead");

    /// <summary>Devargs for two ports linked to each other: what one sends, the other receives.</summary>
    public static (string First, string Second) LinkedPairDevargs(string first, string second, int size = 1024)
    {
        string a = first + "_to_" + second, b = second + "_to_" + first;
        return ($"{first},rx={b},tx={a},size={size}", $"{second},rx={a},tx={b},size={size}");
    }

    /// <summary>Probes two linked ring ports on <paramref name="runtime"/>'s vdev bus.</summary>
    public static (EthDev First, EthDev Second) CreateLinkedPair(Core.HyperlaneRuntime runtime, string first = "net_ring0", string second = "net_ring1", int size = 1024)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var (a, b) = LinkedPairDevargs(first, second, size);
        var p0 = runtime.Vdev.Probe(a).Ports[0];
        var p1 = runtime.Vdev.Probe(b).Ports[0];
        return (p0, p1);
    }

    public IReadOnlyList<EthDev> Probe(VdevProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var v = context.Values;
        string rxName = v.GetString("rx") ?? context.DeviceName;
        string txName = v.GetString("tx") ?? rxName;
        int size = (int)v.GetInt("size");
        return [new RingEthDev(context.DeviceName, this, rxName, txName, size)];
    }

    /// <summary>The ring for queue <paramref name="queue"/> of the set named <paramref name="name"/>, created on first use.</summary>
    internal Ring<Mbuf> Acquire(string name, int queue, int size)
    {
        lock (sync)
        {
            if (!rings.TryGetValue(name, out var set))
            {
                set = new RingSet(name, size);
                rings[name] = set;
            }

            if (set.Size != size)
            {
                throw new ArgumentException($"ring '{name}' exists with size {set.Size}, not {size}");
            }

            set.Users++;
            return set.Get(queue);
        }
    }

    /// <summary>Drops one user of a ring set; frees its rings with the last one (packets still in them are freed).</summary>
    internal void ReleaseSet(string name)
    {
        lock (sync)
        {
            if (rings.TryGetValue(name, out var set) && --set.Users <= 0)
            {
                rings.Remove(name);
                set.Dispose();
            }
        }
    }

    private sealed class RingSet(string name, int size) : IDisposable
    {
        private readonly Dictionary<int, Ring<Mbuf>> queues = [];

        public int Size { get; } = size;

        public int Users { get; set; }

        public Ring<Mbuf> Get(int queue)
        {
            if (!queues.TryGetValue(queue, out var r))
            {
                // One lcore sends into a queue's ring and one receives from it: single producer, single consumer.
                r = new Ring<Mbuf>($"{name}_q{queue}", Size, RingFlags.SingleProducer | RingFlags.SingleConsumer);
                queues[queue] = r;
            }

            return r;
        }

        public void Dispose()
        {
            Span<Mbuf> drain = stackalloc Mbuf[32];
            foreach (var r in queues.Values)
            {
                int n;
                while ((n = r.DequeueBurst(drain)) > 0)
                {
                    Mbuf.FreeBulk(drain[..n]);
                }

                r.Dispose();
            }
        }
    }
}
