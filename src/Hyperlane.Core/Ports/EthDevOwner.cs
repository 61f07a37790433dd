namespace Hyperlane.Core.Ports;

/// <summary>
/// Something that owns ports (a failsafe port owns its sub-devices). Owned ports are hidden from the
/// application's port iteration, and their control operations work only inside the owner's
/// <see cref="Enter"/> scope on the calling thread, so nobody configures them behind the owner's back.
/// </summary>
public sealed class EthDevOwner
{
    [ThreadStatic]
    private static EthDevOwner? current;

    public EthDevOwner(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    public string Name { get; }

    /// <summary>The owner whose scope the calling thread is in, if any.</summary>
    public static EthDevOwner? Current => current;

    /// <summary>Acts as this owner on the calling thread until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        var previous = current;
        current = this;
        return new Scope(previous);
    }

    public override string ToString() => Name;

    /// <summary>Restores the previous owner scope when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly EthDevOwner? previous;

        internal Scope(EthDevOwner? previous) => this.previous = previous;

        public void Dispose() => current = previous;
    }
}
