namespace Hyperlane.Cli.TestPmd;

/// <summary>How testpmd pairs Rx ports with Tx ports (--port-topology).</summary>
public enum PortTopology
{
    /// <summary>0↔1, 2↔3, ...; an odd last port forwards to itself.</summary>
    Paired,

    /// <summary>0→1→2→...→0.</summary>
    Chained,

    /// <summary>Each port forwards to itself.</summary>
    Loop,
}
