using System.Runtime.InteropServices;

namespace Hyperlane.Core.Runtime;

/// <summary>
/// Turns SIGINT and SIGTERM into a cancellation, so forwarding stops cleanly and final stats print
/// instead of the process dying. A signal repeated within <see cref="RepeatWindow"/> is the same request
/// (GNU timeout sends SIGTERM to the command and again to its process group); one that comes later,
/// while shutting down, ends the process at once.
/// </summary>
public sealed class ShutdownSignal : IDisposable
{
    /// <summary>Signals closer together than this count as one request.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(1);

    private long firstSignalTick;

    private readonly CancellationTokenSource cts = new();
    private readonly PosixSignalRegistration sigint;
    private readonly PosixSignalRegistration sigterm;

    public ShutdownSignal()
    {
        sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public CancellationToken Token => cts.Token;

    /// <summary>The signal that asked for shutdown, if any.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>Asks for shutdown as a signal would.</summary>
    public void Request() => cts.Cancel();

    public void Dispose()
    {
        sigint.Dispose();
        sigterm.Dispose();
        cts.Dispose();
    }

    /// <summary>Whether a signal arriving <paramref name="sinceFirst"/> after the first one should end the process at once.</summary>
    public static bool ForcesExit(TimeSpan sinceFirst) => sinceFirst >= RepeatWindow;

    private void Handle(PosixSignalContext context)
    {
        if (cts.IsCancellationRequested)
        {
            // A later signal lets the default action end the process; a near-simultaneous one is the same request.
            context.Cancel = !ForcesExit(TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref firstSignalTick)));
            return;
        }

        context.Cancel = true;
        Interlocked.Exchange(ref firstSignalTick, Environment.TickCount64);
        Received = context.Signal;
        cts.Cancel();
    }
}
