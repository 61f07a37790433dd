using Hyperlane.Packets;

namespace Hyperlane.Cli.TestPmd;

/// <summary>Everything a testpmd run is told on its command line (EAL options and application options).</summary>
public sealed record TestPmdOptions
{
    // ---- EAL side ----

    /// <summary>Lcore ids (-l); the first is the main lcore unless --main-lcore says otherwise.</summary>
    public IReadOnlyList<int> Lcores { get; init; } = [];

    public int? MainLcore { get; init; }

    /// <summary>--vdev devargs, in order.</summary>
    public IReadOnlyList<string> Vdevs { get; init; } = [];

    /// <summary>-a allow-list (for buses other than vdev; none probe here yet).</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    public IReadOnlyList<string> LogLevels { get; init; } = [];

    /// <summary>DPDK flags accepted for compatibility that mean nothing here, for the note printed at start.</summary>
    public IReadOnlyList<string> IgnoredEalFlags { get; init; } = [];

    // ---- application side ----
    public ForwardMode ForwardMode { get; init; } = ForwardMode.Io;

    /// <summary>Forwarding cores (--nb-cores); testpmd's default is 1.</summary>
    public int NbCores { get; init; } = 1;

    public int RxQueues { get; init; } = 1;

    public int TxQueues { get; init; } = 1;

    public int RxDescriptors { get; init; } = 512;

    public int TxDescriptors { get; init; } = 512;

    public int Burst { get; init; } = 32;

    /// <summary>Segment lengths of generated packets (--txpkts); testpmd's default is one 64-byte segment.</summary>
    public IReadOnlyList<int> TxPackets { get; init; } = [64];

    /// <summary>Mbuf data room (--mbuf-size), headroom included.</summary>
    public int MbufSize { get; init; } = 2048 + 128;

    public int? TotalNumMbufs { get; init; }

    public PortTopology PortTopology { get; init; } = PortTopology.Paired;

    /// <summary>--eth-peer N,MAC: destination MAC for mac mode per port.</summary>
    public IReadOnlyDictionary<int, MacAddress> EthPeers { get; init; } = new Dictionary<int, MacAddress>();

    public bool TxFirst { get; init; }

    /// <summary>Seconds between stats displays; 0 = none.</summary>
    public int StatsPeriod { get; init; }

    public bool AutoStart { get; init; }

    public bool Interactive { get; init; }

    /// <summary>Stop after this many seconds (Hyperlane extension).</summary>
    public double? Duration { get; init; }

    /// <summary>Write a JSON summary here at exit (Hyperlane extension).</summary>
    public string? SummaryJson { get; init; }

    /// <summary>Built-in demo run: linked net_ring pair, generator on port 0, io on port 1.</summary>
    public bool BuiltInDefault { get; init; }
}
