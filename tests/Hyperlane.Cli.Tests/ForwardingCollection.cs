namespace Hyperlane.Cli.Tests;

/// <summary>Forwarding tests pin lcore threads to the machine's CPUs: run them one at a time.</summary>
[CollectionDefinition(nameof(ForwardingCollection), DisableParallelization = true)]
public sealed class ForwardingCollection;
