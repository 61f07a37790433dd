using Hyperlane.Core.Ports;
using Hyperlane.Linux;

namespace Hyperlane.Core.Tests;

/// <summary>Edges of the runtime found in review: bad lcore ids, stale results, driver NotSupported, nested Invoke.</summary>
public class RuntimeEdgeTests
{
    [Fact]
    public void Wait_on_an_lcore_outside_the_list_names_the_list()
    {
        using var rt = new HyperlaneRuntime();
        var ex = Assert.Throws<ArgumentException>(() => rt.Lcores.Wait(500));
        Assert.Contains("lcore 500 is not in this runtime's core list", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wait_does_not_return_an_earlier_runs_result()
    {
        using var rt = new HyperlaneRuntime();
        int lcore = rt.Lcores.Main.Id;
        rt.Lcores.Launch(lcore, () => 7);
        Assert.Equal(7, rt.Lcores.Wait(lcore));
        rt.Lcores.Launch(lcore, () => throw new InvalidOperationException("boom"));
        Assert.Throws<InvalidOperationException>(() => rt.Lcores.Wait(lcore));
        rt.Lcores.Launch(lcore, () => 0);
        Assert.Equal(0, rt.Lcores.Wait(lcore));
    }

    [Fact]
    public void A_driver_throwing_NotSupportedException_reads_as_ENOTSUP()
    {
        var dev = new TestEthDev("net_test_ns");
        dev.FailOn(TestHook.SetMtu, new NotSupportedException("no MTU here"));
        var ex = Assert.Throws<EthDevNotSupportedException>(() => dev.SetMtu(1400));
        Assert.Equal(Errno.ENOTSUP, ex.Error);
        Assert.Contains("MTU set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_on_the_control_thread_wraps_failures_like_from_outside()
    {
        using var rt = new HyperlaneRuntime();
        Exception? inner = null;
        rt.Control.Invoke("outer", () =>
        {
            try
            {
                rt.Control.Invoke("inner", () => throw new IOException("disk"), TimeSpan.FromSeconds(1));
            }
            catch (InvalidOperationException ex)
            {
                inner = ex;
            }
        }, TimeSpan.FromSeconds(5));
        Assert.NotNull(inner);
        Assert.Contains("control thread: 'inner' failed: disk", inner!.Message, StringComparison.Ordinal);
    }

}
