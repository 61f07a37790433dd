namespace Hyperlane.Vhost.Tests;

/// <summary>dpdk-testpmd busy-polls the machine's cores: its tests run alone, not beside timing-sensitive ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FrontendDpdkCollection
{
    public const string Name = "dpdk-testpmd";
}
