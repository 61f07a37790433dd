using System.Runtime.InteropServices;

namespace Hyperlane.Core.Runtime;

/// <summary>
/// Turns SIGINT and SIGTERM into a cancellation, so forwarding stops cleanly and final stats print
/// instead of the process dying. A second signal while shutting down exits at once.
/// </summary>
public sealed class ShutdownSignal : IDisposable
{
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

    private void Handle(PosixSignalContext context)
    {
        if (cts.IsCancellationRequested)
        {
            return; // second signal: let the default action end the process
        }

        context.Cancel = true;
        Received = context.Signal;
        cts.Cancel();
    }
}
