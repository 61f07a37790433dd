using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Memory;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Frontend;

/// <summary>
/// What split and packed driver queues share: the data-path gate (one compare-and-swap per burst; the control
/// side stops the queue before touching it), the burst wrappers that free completed mbufs in batches and refill
/// the receive ring once a quarter of it is free, and the stop/start/reset/fill/dispose life cycle. The ring
/// formats live in <see cref="SplitDriverQueue"/> and <see cref="PackedDriverQueue"/>.
/// </summary>
public abstract class DriverQueue : IVirtioDriverQueue
{
    private protected const int BatchSize = 32;
    private static readonly TimeSpan DisposeStopTimeout = TimeSpan.FromSeconds(2);

    private readonly DataPathGate _gate = new();
    private readonly int _refillThreshold;
    private int _disposed;

    private protected DriverQueue(DriverQueueSetup setup)
    {
        VringIndex = setup.VringIndex;
        Role = setup.Role;
        _refillThreshold = Math.Clamp(setup.Size / 4, 1, BatchSize);
    }

    /// <inheritdoc/>
    public int VringIndex { get; }

    /// <inheritdoc/>
    public abstract int Size { get; }

    /// <inheritdoc/>
    public DriverQueueRole Role { get; }

    /// <inheritdoc/>
    public abstract bool IsPacked { get; }

    /// <inheritdoc/>
    public VhostVringAddr RingAddress { get; private protected init; }

    /// <inheritdoc/>
    public abstract uint InitialBase { get; }

    /// <inheritdoc/>
    public EventFd KickFd { get; private protected init; } = null!;

    /// <inheritdoc/>
    public EventFd CallFd { get; private protected init; } = null!;

    /// <inheritdoc/>
    public VirtioDriverQueueStats Stats { get; } = new();

    /// <inheritdoc/>
    public abstract int InFlight { get; }

    /// <inheritdoc/>
    public bool IsBroken => Broken;

    /// <inheritdoc/>
    public bool IsStopped => _gate.IsStopped;

    /// <summary>Set when the device's writes cannot be accounted for; cleared by <see cref="ResetCore"/>.</summary>
    private protected bool Broken { get; set; }

    /// <summary>Free slots of the ring (descriptors, or packed slots) that a refill could fill.</summary>
    private protected abstract int FreeSlots { get; }

    /// <summary>"split" or "packed", for messages.</summary>
    private protected abstract string Kind { get; }

    /// <inheritdoc/>
    public int Transmit(ReadOnlySpan<Mbuf> packets)
    {
        if (Role != DriverQueueRole.Transmit || !_gate.TryEnter())
        {
            return 0;
        }

        try
        {
            var done = new MbufFreeBatch(stackalloc Mbuf[BatchSize]);
            int taken = Broken ? 0 : TransmitBurst(packets, ref done);
            done.Flush();
            return taken;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc/>
    public int Receive(Span<Mbuf> packets)
    {
        if (Role != DriverQueueRole.Receive || !_gate.TryEnter())
        {
            return 0;
        }

        try
        {
            // Refill first, then harvest: the slots freed by the previous burst get the mbufs the application freed
            // since, which are the ones that burst handed out, in the same order. So each descriptor (and avail
            // slot) gets its own buffer back and is not rewritten (see SplitDriverQueue.WriteDesc), which keeps the
            // device's cached copy of the table valid. The slots this burst frees wait for the next call.
            if (!Broken && FreeSlots >= _refillThreshold)
            {
                Refill();
            }

            var done = new MbufFreeBatch(stackalloc Mbuf[BatchSize]);
            int received = Broken ? 0 : Harvest(packets, ref done);
            done.Flush();
            return received;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc/>
    public bool Stop(TimeSpan timeout) => _gate.TryStop(timeout);

    /// <inheritdoc/>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _gate.Start();
    }

    /// <inheritdoc/>
    public void Reset()
    {
        RequireStopped(nameof(Reset));
        ResetCore();
    }

    /// <inheritdoc/>
    public int Fill()
    {
        RequireStopped(nameof(Fill));
        return Role == DriverQueueRole.Receive && !Broken ? Refill() : 0;
    }

    /// <summary>Stops the queue, frees every mbuf in flight and closes the eventfds. The ring memory belongs to the area.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Kind} vring {VringIndex} ({Role}, {Size} descriptors, {InFlight} in flight{(Broken ? ", broken" : string.Empty)})");

    /// <summary>Reclaims what the device used and makes <paramref name="packets"/> available; returns how many were taken.</summary>
    private protected abstract int TransmitBurst(ReadOnlySpan<Mbuf> packets, ref MbufFreeBatch done);

    /// <summary>Takes what the device wrote into <paramref name="packets"/>; returns how many.</summary>
    private protected abstract int Harvest(Span<Mbuf> packets, ref MbufFreeBatch done);

    /// <summary>Posts empty mbufs in the free slots; returns how many.</summary>
    private protected abstract int Refill();

    /// <summary>Frees everything in flight and puts the ring back to its initial state (not broken).</summary>
    private protected abstract void ResetCore();

    /// <summary>Frees every mbuf in flight.</summary>
    private protected abstract void FreeInFlight();

    /// <summary>Releases the queue once (<paramref name="disposing"/> is always true: there is no finalizer).</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_gate.TryStop(DisposeStopTimeout))
        {
            FreeInFlight();
        }

        KickFd.Dispose();
        CallFd.Dispose();
    }

    private void RequireStopped(string operation)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!_gate.IsStopped)
        {
            throw new InvalidOperationException($"{operation} of {this} needs the queue stopped first (Stop)");
        }
    }
}
