using Hyperlane.Core.Runtime;

namespace Hyperlane.Core.Tests;

public class ShutdownSignalTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(5, false)]
    [InlineData(999, false)]
    [InlineData(1000, true)]
    [InlineData(5000, true)]
    public void A_repeat_within_a_second_is_the_same_request(int ms, bool forces)
    {
        // GNU timeout signals the command and then its process group: two SIGTERMs at once must not skip the final stats.
        Assert.Equal(forces, ShutdownSignal.ForcesExit(TimeSpan.FromMilliseconds(ms)));
    }
}
