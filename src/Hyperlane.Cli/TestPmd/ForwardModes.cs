namespace Hyperlane.Cli.TestPmd;

/// <summary>Names of forwarding modes as testpmd spells them.</summary>
public static class ForwardModes
{
    public static IReadOnlyList<string> Names { get; } = ["io", "mac", "macswap", "rxonly", "txonly", "flowgen", "icmpecho"];

    public static bool TryParse(string text, out ForwardMode mode)
    {
        mode = text switch
        {
            "io" => ForwardMode.Io,
            "mac" => ForwardMode.Mac,
            "macswap" => ForwardMode.MacSwap,
            "rxonly" => ForwardMode.RxOnly,
            "txonly" => ForwardMode.TxOnly,
            "flowgen" => ForwardMode.FlowGen,
            "icmpecho" => ForwardMode.IcmpEcho,
            _ => (ForwardMode)(-1),
        };
        return (int)mode >= 0;
    }

    public static string Name(ForwardMode mode) => mode switch
    {
        ForwardMode.Io => "io",
        ForwardMode.Mac => "mac",
        ForwardMode.MacSwap => "macswap",
        ForwardMode.RxOnly => "rxonly",
        ForwardMode.TxOnly => "txonly",
        ForwardMode.FlowGen => "flowgen",
        ForwardMode.IcmpEcho => "icmpecho",
        ForwardMode.Generator => "generator",
        _ => mode.ToString(),
    };
}
