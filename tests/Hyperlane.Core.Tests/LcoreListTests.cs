using Hyperlane.Core.Runtime;

namespace Hyperlane.Core.Tests;

public class LcoreListTests
{
    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-1", new[] { 0, 1 })]
    [InlineData("0,2", new[] { 0, 2 })]
    [InlineData("1-2,5", new[] { 1, 2, 5 })]
    [InlineData("5,1-2", new[] { 1, 2, 5 })]
    [InlineData("3,3,1-3", new[] { 1, 2, 3 })]
    [InlineData(" 0 , 4-5 ", new[] { 0, 4, 5 })]
    [InlineData("127", new[] { 127 })]
    [InlineData("2-2", new[] { 2 })]
    public void Parses_dpdk_core_lists(string text, int[] expected)
    {
        Assert.Equal(expected, LcoreList.Parse(text));
    }

    [Theory]
    [InlineData("", "empty core list (expected e.g. 0-1 or 0,2)")]
    [InlineData("   ", "empty core list (expected e.g. 0-1 or 0,2)")]
    [InlineData("a", "core list 'a': 'a' is not a core number 0..127")]
    [InlineData("3-1", "core list '3-1': range 3-1 runs backwards")]
    [InlineData("200", "core list '200': '200' is not a core number 0..127")]
    [InlineData("128", "core list '128': '128' is not a core number 0..127")]
    [InlineData("0-200", "core list '0-200': '200' is not a core number 0..127")]
    [InlineData("0,,1", "core list '0,,1': '' is not a core number 0..127")]
    [InlineData("-1", "core list '-1': '' is not a core number 0..127")]
    [InlineData("1-", "core list '1-': '' is not a core number 0..127")]
    [InlineData("+1", "core list '+1': '+1' is not a core number 0..127")]
    [InlineData("0x1", "core list '0x1': '0x1' is not a core number 0..127")]
    public void Bad_core_lists_are_refused_with_a_message(string text, string message)
    {
        var ex = Assert.Throws<FormatException>(() => LcoreList.Parse(text));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Null_is_an_argument_error()
    {
        Assert.Throws<ArgumentNullException>(() => LcoreList.Parse(null!));
    }
}
