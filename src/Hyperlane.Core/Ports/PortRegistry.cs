using Hyperlane.Linux;

namespace Hyperlane.Core.Ports;

/// <summary>
/// The ports of one <see cref="HyperlaneRuntime"/>: ids, names, ownership and events. Application
/// iteration (<see cref="Ports"/>) shows only ports nobody owns.
/// </summary>
public sealed class PortRegistry
{
    /// <summary>Most ports at once (DPDK's RTE_MAX_ETHPORTS is 32; we allow more for failsafe sub-devices).</summary>
    public const int MaxPorts = 1024;

    private readonly EthDev?[] ports = new EthDev?[MaxPorts];
    private readonly Lock sync = new();

    /// <summary>Every event of every registered port, plus New and Destroy.</summary>
    public event EventHandler<EthDevEventArgs>? EventRaised;

    /// <summary>Ports the application may use: registered, not closed, not owned; in id order.</summary>
    public IReadOnlyList<EthDev> Ports => Select(owner: null, includeOwned: false);

    /// <summary>Every registered port, owned or not.</summary>
    public IReadOnlyList<EthDev> All => Select(owner: null, includeOwned: true);

    public int Count => All.Count;

    /// <summary>Gives <paramref name="dev"/> the lowest free port id and raises <see cref="EthDevEventType.New"/>.</summary>
    public ushort Register(EthDev dev)
    {
        ArgumentNullException.ThrowIfNull(dev);
        ushort id;
        lock (sync)
        {
            if (dev.PortId != ushort.MaxValue)
            {
                throw new InvalidOperationException($"{dev.Name} is already registered as port {dev.PortId}");
            }

            if (FindByNameLocked(dev.Name) is not null)
            {
                throw new EthDevException(ushort.MaxValue, dev.Name, "register", "a port with this name exists", Errno.EEXIST);
            }

            int free = Array.IndexOf(ports, null);
            if (free < 0)
            {
                throw new EthDevException(ushort.MaxValue, dev.Name, "register", $"no free port id (at most {MaxPorts} ports)", Errno.ENOSPC);
            }

            id = (ushort)free;
            dev.PortId = id;
            ports[id] = dev;
        }

        dev.EventRaised += Forward;
        dev.Closed += OnClosed;
        EventRaised?.Invoke(this, new EthDevEventArgs(id, dev.Name, EthDevEventType.New));
        return id;
    }

    /// <summary>The port with id <paramref name="portId"/>; throws naming the id when there is none.</summary>
    public EthDev Get(int portId) =>
        TryGet(portId, out var dev) ? dev : throw new EthDevException((ushort)Math.Clamp(portId, 0, ushort.MaxValue), "?", "lookup", $"no port {portId} (valid: {string.Join(", ", All.Select(p => p.PortId))})", Errno.ENODEV);

    public bool TryGet(int portId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EthDev? dev)
    {
        dev = (uint)portId < MaxPorts ? Volatile.Read(ref ports[portId]) : null;
        return dev is not null;
    }

    public EthDev? FindByName(string name)
    {
        lock (sync)
        {
            return FindByNameLocked(name);
        }
    }

    /// <summary>Ports owned by <paramref name="owner"/>.</summary>
    public IReadOnlyList<EthDev> OwnedBy(EthDevOwner owner) => Select(owner, includeOwned: true);

    /// <summary>Makes <paramref name="owner"/> the owner of <paramref name="dev"/>: it disappears from <see cref="Ports"/>.</summary>
    public void Claim(EthDev dev, EthDevOwner owner)
    {
        ArgumentNullException.ThrowIfNull(dev);
        ArgumentNullException.ThrowIfNull(owner);
        lock (sync)
        {
            if (dev.Owner is { } current && !ReferenceEquals(current, owner))
            {
                throw new EthDevException(dev.PortId, dev.Name, "claim", $"already owned by {current.Name}", Errno.EBUSY);
            }

            dev.Owner = owner;
        }
    }

    /// <summary>Gives <paramref name="dev"/> back to the application.</summary>
    public void Unclaim(EthDev dev, EthDevOwner owner)
    {
        ArgumentNullException.ThrowIfNull(dev);
        lock (sync)
        {
            if (!ReferenceEquals(dev.Owner, owner))
            {
                throw new EthDevException(dev.PortId, dev.Name, "unclaim", $"not owned by {owner.Name}", Errno.EPERM);
            }

            dev.Owner = null;
        }
    }

    private EthDev? FindByNameLocked(string name)
    {
        foreach (var p in ports)
        {
            if (p is not null && string.Equals(p.Name, name, StringComparison.Ordinal))
            {
                return p;
            }
        }

        return null;
    }

    private List<EthDev> Select(EthDevOwner? owner, bool includeOwned)
    {
        var list = new List<EthDev>();
        lock (sync)
        {
            foreach (var p in ports)
            {
                if (p is null || p.State == EthDevState.Closed)
                {
                    continue;
                }

                if (owner is not null ? ReferenceEquals(p.Owner, owner) : includeOwned || p.Owner is null)
                {
                    list.Add(p);
                }
            }
        }

        return list;
    }

    private void Forward(object? sender, EthDevEventArgs e) => EventRaised?.Invoke(sender, e);

    private void OnClosed(object? sender, EventArgs e)
    {
        if (sender is not EthDev dev)
        {
            return;
        }

        lock (sync)
        {
            if (dev.PortId < MaxPorts && ReferenceEquals(ports[dev.PortId], dev))
            {
                ports[dev.PortId] = null;
            }
        }

        dev.EventRaised -= Forward;
        dev.Closed -= OnClosed;
        EventRaised?.Invoke(this, new EthDevEventArgs(dev.PortId, dev.Name, EthDevEventType.Destroy));
    }
}
