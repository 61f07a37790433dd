using Hyperlane.Core.Ports;
using Hyperlane.Linux;

namespace Hyperlane.Core.Tests;

/// <summary>Checks on control-path exceptions: one line, naming the port and the operation.</summary>
public static class PortAssert
{
    public static T Fails<T>(EthDev dev, string operation, Errno error, Action action, params string[] fragments)
        where T : EthDevException
    {
        ArgumentNullException.ThrowIfNull(dev);
        var ex = Assert.Throws<T>(action);
        Assert.StartsWith($"port {dev.PortId} ({dev.Name}): {operation}: ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(operation, ex.Operation);
        Assert.Equal(dev.PortId, ex.PortId);
        Assert.Equal(dev.Name, ex.PortName);
        Assert.Equal(error, ex.Error);
        Assert.DoesNotContain('\n', ex.Message);
        foreach (var f in fragments)
        {
            Assert.Contains(f, ex.Message, StringComparison.Ordinal);
        }

        return ex;
    }

    public static EthDevStateException WrongState(EthDev dev, string operation, EthDevState state, Action action, params string[] fragments)
    {
        var ex = Fails<EthDevStateException>(dev, operation, Errno.EBUSY, action, fragments);
        Assert.Equal(state, ex.State);
        Assert.Contains($"not allowed while the port is {state.ToString().ToLowerInvariant()}", ex.Message, StringComparison.Ordinal);
        return ex;
    }
}
